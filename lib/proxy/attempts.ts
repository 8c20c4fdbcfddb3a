/**
 * Sending one client request to the pool: pick a backend, wait for a slot
 * under `--max-connections-per-backend`, send through the transport, and on
 * failure decide (with `retry.ts` and the retry budget) whether to try
 * another backend. Results feed passive outlier detection and the EWMA.
 *
 * @module
 */

import type { LimitsConfig, OutlierConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { type BackendLimiter, QueueRejected } from "../resilience/limiter.ts";
import { recordResult } from "../resilience/outlier.ts";
import type { RetryBudget } from "../resilience/retry_budget.ts";
import type { PickContext, Strategy } from "../balancing/mod.ts";
import {
  type Transport,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../core/transport.ts";
import { NoBackendError } from "./errors.ts";
import { mayRetry, type RetryFacts } from "./retry.ts";

/** What {@link sendWithRetries} needs. */
export interface AttemptDeps {
  readonly pool: Pool;
  readonly strategy: Strategy;
  readonly transport: Transport;
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Extra attempts after the first. */
  readonly retries: number;
  readonly budget: RetryBudget;
  readonly outlier: OutlierConfig;
  readonly limits: LimitsConfig;
  readonly limiter: (backend: Backend) => BackendLimiter;
  /** Overall time to response headers, across attempts. */
  readonly deadlineMs: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

/** A request to send, with what the retry rule needs to know about it. */
export interface Outgoing {
  readonly request: UpstreamRequest;
  readonly facts: RetryFacts;
  /** Pick context; its `exclude` set grows with each attempt. */
  readonly ctx: PickContext & { readonly exclude: Set<Backend> };
  readonly start: number;
}

/** The backend that answered and its response. Its limiter slot is held until released. */
export interface Answer {
  readonly backend: Backend;
  readonly upstream: UpstreamResponse;
  /** When its response headers arrived (monotonic ms). */
  readonly at: number;
}

/** Sends `out` to the pool, retrying when safe. Throws the last failure. */
export async function sendWithRetries(deps: AttemptDeps, out: Outgoing): Promise<Answer> {
  const { pool, strategy, transport, metrics, now } = deps;
  let lastError: unknown;
  for (let attempt = 0; attempt <= deps.retries; attempt++) {
    if (attempt > 0) {
      if (now() - out.start >= deps.deadlineMs) break;
      if (!deps.budget.tryRetry(now())) {
        metrics.retryBudgetExhausted.inc();
        deps.log.debug("retry budget exhausted; not retrying");
        break;
      }
      metrics.retries.labels((lastError as UpstreamError).kind).inc();
    }
    const backend = pickWithCapacity(strategy, pool.healthy, out.ctx, deps.limiter);
    if (!backend) break;
    out.ctx.exclude.add(backend);
    // Without a per-backend limit (the default) there is nothing to wait for: no await.
    const waiting = deps.limiter(backend).acquire(deps.limits.queueTimeoutMs, out.request.signal);
    if (waiting) await queued(deps, backend, waiting);
    backend.inFlight++;
    backend.requests++;
    // A bodiless first attempt goes out as the request arrives: no second clock read.
    const sentAt = attempt === 0 && !waiting && out.request.body === null ? out.start : now();
    try {
      const upstream = await transport.request(backend.spec, out.request);
      const answeredAt = now();
      backend.ewma.observe(answeredAt - sentAt, answeredAt);
      const failed = deps.outlier.on5xx && upstream.status >= 500;
      outlierResult(deps, backend, !failed);
      return { backend, upstream, at: answeredAt };
    } catch (err) {
      backend.inFlight--;
      deps.limiter(backend).release();
      if (!(err instanceof UpstreamError)) throw err;
      lastError = err;
      backend.failures++;
      metrics.upstreamErrors.labels(backend.id, err.kind).inc();
      // Only what the backend did counts against it: not the lb's own congestion.
      if (err.unreachable) pool.markDown(backend, err.message, Date.now());
      else if (err.mayHaveReached) outlierResult(deps, backend, false);
      const retry = attempt < deps.retries && mayRetry(err, out.facts);
      deps.log.debug("{backend}: {kind} ({error}){retrying}", {
        backend: backend.id,
        kind: err.kind,
        error: err.message,
        retrying: retry ? ", may retry" : "",
      });
      if (!retry) break;
    }
  }
  // Errors are built only on failure: capturing a stack costs a microsecond.
  throw lastError ?? new NoBackendError();
}

/**
 * The strategy's pick, but passing over backends whose limiter is full when
 * another has room; when all are full, the first pick (its queue) it is.
 */
function pickWithCapacity(
  strategy: Strategy,
  snapshot: readonly Backend[],
  ctx: PickContext & { readonly exclude: Set<Backend> },
  limiter: (b: Backend) => BackendLimiter,
): Backend | undefined {
  const first = strategy.pick(snapshot, ctx);
  if (!first || limiter(first).available) return first;
  const full = new Set(ctx.exclude);
  for (
    let b: Backend | undefined = first;
    b;
    b = strategy.pick(snapshot, { ...ctx, exclude: full })
  ) {
    if (limiter(b).available) return b;
    full.add(b);
  }
  return first;
}

/** Waits in the backend's queue for a slot, counting the wait and any rejection. */
async function queued(deps: AttemptDeps, backend: Backend, waiting: Promise<void>) {
  const started = deps.now();
  deps.metrics.queueDepth.labels(backend.id).inc();
  try {
    await waiting;
  } catch (err) {
    if (err instanceof QueueRejected) {
      deps.metrics.queueRejected.labels(backend.id, err.reason).inc();
    }
    throw err;
  } finally {
    deps.metrics.queueDepth.labels(backend.id).dec();
    deps.metrics.queueWait.observe((deps.now() - started) / 1000);
  }
}

function outlierResult(deps: AttemptDeps, backend: Backend, ok: boolean): void {
  if (deps.outlier.consecutiveErrors === 0) return;
  // The common case, a success, only resets the count: no clock read.
  if (ok) {
    backend.outlier.consecutive = 0;
    return;
  }
  const until = recordResult(
    backend.outlier,
    ok,
    deps.pool.now(),
    deps.outlier,
    deps.pool.ejectedCount,
    deps.pool.backends.length,
  );
  if (until !== undefined) {
    deps.metrics.ejections.labels(backend.id).inc();
    deps.pool.eject(backend, until, `${deps.outlier.consecutiveErrors} consecutive errors`);
  }
}
