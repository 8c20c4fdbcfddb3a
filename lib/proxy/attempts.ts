/**
 * The one retry loop, for every kind of request (HTTP exchanges and
 * WebSocket handshakes alike): pick a backend, wait for a slot under
 * `--max-connections-per-backend`, send, and on failure decide (with
 * `retry.ts` and the retry budget, within the overall deadline) whether to
 * try another backend. Results feed passive outlier detection, the EWMA and
 * health. The answer carries `release`, which ends the backend's part.
 *
 * @module
 */

import type { Explain } from "../core/explain.ts";
import type { Logger } from "../core/logging.ts";
import { UpstreamError } from "../core/transport.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Backend } from "../pool/pool.ts";
import { recordOutcome } from "../pool/outcome.ts";
import type { PickContext, Strategy } from "../balancing/types.ts";
import { type BackendLimiter, QueueRejected } from "../resilience/limiter.ts";
import { NoBackendError } from "./errors.ts";
import { mayResend, mayRetry, type RetryFacts } from "./retry.ts";
import type { Upstream } from "./upstream.ts";

/** What {@link sendWithRetries} needs besides the upstream. */
export interface AttemptDeps {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

/** A request to send, with what the retry rule needs to know about it. */
export interface Outgoing<T> {
  readonly facts: RetryFacts;
  /** Pick context; its `exclude` set grows with each attempt. */
  readonly ctx: PickContext & { readonly exclude: Set<Backend> };
  /** When the request arrived (monotonic ms). */
  readonly start: number;
  /** Aborts when the client has gone away. */
  readonly signal: AbortSignal;
  /** Whether the first attempt can be sent at `start` (no body to read first): saves a clock read. */
  readonly sendsAtStart: boolean;
  /** One attempt on one backend; rejects with an {@link UpstreamError} on failure. */
  send(backend: Backend): Promise<T>;
  /** Whether an answer counts as a failure for outlier detection (5xx with `--eject-on-5xx`). */
  failed?(value: T): boolean;
  /** Answers worth trying another backend for (`policies.retry`). */
  retryOn?: StatusRetry<T>;
  /** Set when the request asked for `X-LB-Explain`: each pick and attempt is recorded there. */
  readonly explain?: Explain;
}

/** Which answers to retry, and how to let go of one that is not used. */
export interface StatusRetry<T> {
  /** The answer's status when it is one to retry; undefined otherwise. */
  wants(value: T): number | undefined;
  discard(value: T): void;
}

/** The backend that answered and its answer. Its slot is held until {@link Answer.release}. */
export interface Answer<T> {
  readonly backend: Backend;
  readonly value: T;
  /** When the answer arrived (monotonic ms). */
  readonly at: number;
  /** Ends the backend's part in the request (delivered or abandoned); call once. */
  release(): void;
}

/** Sends `out` through `up`, retrying when safe. Throws the last failure. */
export async function sendWithRetries<T>(
  up: Upstream,
  deps: AttemptDeps,
  out: Outgoing<T>,
): Promise<Answer<T>> {
  const { pool, config } = up;
  const { metrics, now } = deps;
  const explain = out.explain;
  let lastError: unknown;
  // A retry on an answer was already paid for from the budget (see below).
  let paid = false;
  // The answer a retry on status set aside: the client's if no later try answers.
  let kept: Answer<T> | undefined;
  try {
    for (let attempt = 0; attempt <= config.retries; attempt++) {
      if (attempt > 0 && paid) paid = false;
      else if (attempt > 0) {
        if (now() - out.start >= config.responseTimeoutMs) {
          explain?.notRetried("response deadline spent");
          break;
        }
        if (!up.budget.tryRetry(now())) {
          metrics.retryBudgetExhausted.inc();
          deps.log.debug("retry budget exhausted; not retrying");
          explain?.notRetried("retry budget exhausted");
          break;
        }
        metrics.retries.labels(up.name, (lastError as UpstreamError).kind).inc();
        explain?.retried((lastError as UpstreamError).kind);
      }
      explain?.beginPick();
      const backend = pickWithCapacity(up.strategy, pool.healthy, out.ctx, up, explain);
      explain?.chose(backend?.id);
      if (!backend) {
        explain?.notRetried("no backend left to try");
        break;
      }
      out.ctx.exclude.add(backend);
      const limiter = up.limiter(backend);
      // Without a per-backend limit (the default) there is nothing to wait for: no await.
      const waiting = limiter.acquire(config.limits.queueTimeoutMs, out.signal);
      if (waiting) await queued(up, deps, backend, waiting);
      backend.begin();
      const tried = explain?.attempt(backend.id);
      // A bodiless first attempt goes out as the request arrives: no second clock read.
      const sentAt = attempt === 0 && !waiting && out.sendsAtStart ? out.start : now();
      try {
        const value = await out.send(backend);
        const at = now();
        backend.answered(at - sentAt, at);
        recordOutcome(pool, backend, !(out.failed?.(value) ?? false), config.outlier);
        const answer = { backend, value, at, release: () => release(backend, limiter) };
        if (tried) tried.outcome = outcomeOf(value);
        const unwanted = out.retryOn?.wants(value);
        if (unwanted !== undefined && retryAnswer(up, deps, out, attempt, unwanted)) {
          // Kept (slot and all) until another try answers: if none does, the
          // client gets this backend's own answer, not a made-up 502.
          letGo(out, kept);
          kept = answer;
          paid = true;
          continue;
        }
        letGo(out, kept);
        kept = undefined;
        return answer;
      } catch (err) {
        backend.fail();
        limiter.release();
        if (!(err instanceof UpstreamError)) throw err;
        lastError = err;
        if (tried) tried.outcome = err.kind;
        metrics.upstreamErrors.labels(up.name, backend.id, err.kind).inc();
        // Only what the backend did counts against it: not the lb's own congestion.
        if (err.unreachable) pool.markDown(backend, err.message, Date.now());
        else if (err.mayHaveReached) recordOutcome(pool, backend, false, config.outlier);
        const retry = attempt < config.retries && mayRetry(err, out.facts);
        deps.log.debug("{pool}/{backend}: {kind} ({error}){retrying}", {
          pool: up.name,
          backend: backend.id,
          kind: err.kind,
          error: err.message,
          retrying: retry ? ", may retry" : "",
        });
        if (!retry) {
          explain?.notRetried(whyNotRetried(err, out.facts, attempt >= config.retries));
          break;
        }
      }
    }
  } catch (err) {
    letGo(out, kept);
    throw err;
  }
  if (kept) return kept;
  // Errors are built only on failure: capturing a stack costs a microsecond.
  throw lastError ?? new NoBackendError();
}

/**
 * Whether an answer `policies.retry` names is retried: the request must be
 * one that may be sent twice (idempotent, its body replayable), attempts and
 * time must be left, another backend must be there to try, and the retry
 * budget must allow it (then it is spent, and counted). Otherwise the answer
 * goes to the client as it is: a 503 is better than a made-up 502.
 */
function retryAnswer<T>(
  up: Upstream,
  deps: AttemptDeps,
  out: Outgoing<T>,
  attempt: number,
  status: number,
): boolean {
  const { config } = up;
  if (attempt >= config.retries) return noRetry(out, "no retries left");
  if (!mayResend(out.facts)) return noRetry(out, "not safe to send again");
  const at = deps.now();
  if (at - out.start >= config.responseTimeoutMs) return noRetry(out, "response deadline spent");
  if (!up.pool.healthy.some((b) => !out.ctx.exclude.has(b))) {
    return noRetry(out, "no backend left to try");
  }
  if (!up.budget.tryRetry(at)) {
    deps.metrics.retryBudgetExhausted.inc();
    return noRetry(out, "retry budget exhausted");
  }
  deps.metrics.retries.labels(up.name, `status_${status}`).inc();
  out.explain?.retried(`status_${status}`);
  return true;
}

/** Records why an answer is not retried (when explaining); always false. */
function noRetry<T>(out: Outgoing<T>, why: string): false {
  out.explain?.notRetried(why);
  return false;
}

/**
 * Why a failed attempt is not retried, in `mayRetry`'s terms: a response
 * timeout with no per-try timeout has spent the whole deadline (the
 * request may well have been safe to send again).
 */
function whyNotRetried(err: UpstreamError, facts: RetryFacts, spent: boolean): string {
  if (spent) return "no retries left";
  if (err.kind === "response_timeout" && !facts.perTryTimeout) return "response deadline spent";
  return "not safe to send again";
}

/** An answer as an attempt's outcome: its status, or `opened` for a tunnel's socket. */
function outcomeOf(value: unknown): number | string {
  const status = (value as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : "opened";
}

/** Lets a kept answer go: its body discarded, its backend's slot freed. */
function letGo<T>(out: Outgoing<T>, kept: Answer<T> | undefined): void {
  if (kept === undefined) return;
  out.retryOn!.discard(kept.value);
  kept.release();
}

function release(backend: Backend, limiter: BackendLimiter): void {
  backend.settle();
  limiter.release();
}

/**
 * The strategy's pick, but passing over backends whose limiter is full when
 * another has room; when all are full, the first pick (its queue) it is.
 * When explaining, each pick passed over is its own entry, marked `full`.
 */
function pickWithCapacity(
  strategy: Strategy,
  snapshot: readonly Backend[],
  ctx: PickContext & { readonly exclude: Set<Backend> },
  up: Upstream,
  explain: Explain | undefined,
): Backend | undefined {
  const first = strategy.pick(snapshot, ctx);
  if (!first || up.limiter(first).available) return first;
  const full = new Set(ctx.exclude);
  for (
    let b: Backend | undefined = first;
    b;
    b = strategy.pick(snapshot, { ...ctx, exclude: full })
  ) {
    if (up.limiter(b).available) return b;
    full.add(b);
    if (explain) {
      explain.note({ chose: b.id, full: true });
      explain.beginPick();
    }
  }
  return first;
}

/** Waits in the backend's queue for a slot, counting the wait and any rejection. */
async function queued(up: Upstream, deps: AttemptDeps, backend: Backend, waiting: Promise<void>) {
  const started = deps.now();
  const depth = deps.metrics.queueDepth.labels(up.name, backend.id);
  depth.inc();
  try {
    await waiting;
  } catch (err) {
    if (err instanceof QueueRejected) {
      deps.metrics.queueRejected.labels(up.name, backend.id, err.reason).inc();
    }
    throw err;
  } finally {
    depth.dec();
    deps.metrics.queueWait.observe((deps.now() - started) / 1000);
  }
}
