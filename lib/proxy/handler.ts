/**
 * The proxy core: validate, rewrite headers, pick a backend, send through
 * the transport, retry when it is safe, and map failures to replies. It
 * works on the neutral {@link ProxyRequest} and {@link ProxyReply} of
 * `message.ts`, so every front runs the same rules. Everything it decides is
 * delegated to pure functions (`headers.ts`, `retry.ts`, `errors.ts`); this
 * file only sequences them.
 *
 * @module
 */

import type { Cidr } from "../core/cidr.ts";
import type { HashKey, LimitsConfig, OutlierConfig, RetryConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import { type LbMetrics, RequestMetrics } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { BackendLimiter } from "../resilience/limiter.ts";
import { RetryBudget } from "../resilience/retry_budget.ts";
import type { PickContext, Strategy } from "../balancing/mod.ts";
import { ClientAbortError, headerValue, type Transport, UpstreamError } from "../core/transport.ts";
import { type Answer, sendWithRetries } from "./attempts.ts";
import { BadRequestError, errorReply, statusFor } from "./errors.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import { cookieHeader, requestKey } from "./request_key.ts";

/** Dependencies of the proxy handler. */
export interface ProxyOptions {
  readonly pool: Pool;
  readonly strategy: Strategy;
  readonly transport: Transport;
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Logs one line per request when set. */
  readonly accessLog?: Logger;
  /** Extra attempts after the first. */
  readonly retries: number;
  readonly trustProxy: readonly Cidr[];
  /** Seconds a 503 tells clients to wait. */
  readonly retryAfterSeconds: number;
  /** Overall time to response headers, across attempts. */
  readonly responseTimeoutMs: number;
  readonly retry: RetryConfig;
  readonly outlier: OutlierConfig;
  readonly limits: LimitsConfig;
  /** Set when the strategy balances on a request key (`consistent-hash`). */
  readonly hashKey?: HashKey;
  /** Whether the strategy reads the request's cookies (`sticky-cookie`). */
  readonly readsCookies?: boolean;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /**
   * The scheme clients reach this listener with, sent upstream as
   * `X-Forwarded-Proto` and `proto=` in `Forwarded`; "http" by default.
   */
  readonly proto?: "http" | "https";
}

/**
 * One request's passage through the core: its reply, and what must happen
 * once the front has delivered it (or given up).
 */
export interface ProxyExchange {
  readonly reply: ProxyReply;
  /**
   * Called once by the front when the reply was delivered or abandoned:
   * frees the backend, records metrics and writes the access log.
   * `bytes` is the body bytes sent to the client.
   */
  finish(bytes: number): void;
}

/** The proxy core: one per configuration generation. */
export interface ProxyCore {
  /** Proxies one request. Never rejects: failures become error replies. */
  handle(req: ProxyRequest): Promise<ProxyExchange>;
  /** What the strategy may read of a request, for fronts that balance upgrades themselves. */
  pickContext(req: ProxyRequest, at: number): PickContext;
  /** The options the core was made with. */
  readonly options: ProxyOptions;
}

/** Creates the proxy core. */
export function createProxy(options: ProxyOptions): ProxyCore {
  const { strategy, metrics, log, accessLog, trustProxy, retry } = options;
  const now = options.now ?? (() => performance.now());
  const budget = new RetryBudget(retry.budgetPercent, retry.budgetMinPerSecond);
  const limiters = new Map<Backend, BackendLimiter>();
  const limiter = (b: Backend) => {
    let l = limiters.get(b);
    if (!l) {
      // Queue up to ten requests per slot before answering 503 at once.
      l = new BackendLimiter(options.limits.maxPerBackend, options.limits.maxPerBackend * 10);
      limiters.set(b, l);
    }
    return l;
  };
  const deps = {
    ...options,
    budget,
    limiter,
    deadlineMs: options.responseTimeoutMs,
    now,
  };
  const recorder = new RequestMetrics(metrics);
  const perTryTimeout = retry.tryTimeoutMs < options.responseTimeoutMs;
  const proto = options.proto ?? "http";

  /** What the strategy may read of a request: its hash key and cookies, only when used. */
  function pickContext(req: ProxyRequest, at: number): PickContext {
    return {
      now: at,
      hashKey: options.hashKey
        ? requestKey(options.hashKey, {
          headers: req.headers,
          clientIp: req.clientIp,
          target: req.path,
        })
        : undefined,
      cookie: options.readsCookies ? cookieHeader(req.headers) : undefined,
    };
  }

  /** Ends an exchange: frees its backend, counts it, logs it. */
  class Exchange implements ProxyExchange {
    #done = false;
    constructor(
      readonly reply: ProxyReply,
      readonly req: ProxyRequest,
      readonly backend: Backend | undefined,
      readonly start: number,
    ) {}

    finish(bytes: number): void {
      if (this.#done) return;
      this.#done = true;
      metrics.inFlight.dec();
      const backend = this.backend;
      if (backend) release(backend);
      if (accessLog) {
        const { req, reply } = this;
        accessLog.info("{method} {path} {status} {backend} {durationMs}ms {bytes}B", {
          method: req.method,
          path: req.path,
          status: reply.status,
          backend: backend?.id ?? "none",
          durationMs: Math.round((now() - this.start) * 10) / 10,
          bytes,
          client: req.clientIp,
        });
      }
    }
  }

  async function handle(req: ProxyRequest): Promise<ProxyExchange> {
    const start = now();
    metrics.inFlight.inc();
    budget.recordRequest(start);
    let answer: Answer | undefined;
    let reply: ProxyReply;
    try {
      const host = req.host;
      // RFC 9112 §3.2: a request without Host must be refused with 400.
      if (host === null || host === "") throw new BadRequestError("missing Host header");
      const headers = upstreamRequestHeaders(
        req.headers,
        { ip: req.clientIp, proto, host },
        trustProxy,
        req.contentLength,
      );
      const upgrade = options.transport.tunnels ? req.upgrade : undefined;
      // A tunnel: the backend must see the upgrade offer these rules strip.
      if (upgrade !== undefined) headers.push(["connection", "upgrade"], ["upgrade", upgrade]);
      // Most requests have no body: skip the await (and its microtask) for them.
      const body = req.body === null ? null : await replayableBody(req, retry.bufferBytes);
      const ctx = { ...pickContext(req, start), exclude: new Set<Backend>() };
      answer = await sendWithRetries(deps, {
        request: { method: req.method, path: req.path, headers, body, signal: req.signal },
        facts: {
          method: req.method,
          hasBody: req.body !== null,
          replayable: body instanceof Uint8Array,
          idempotencyKey: headerValue(req.headers, "idempotency-key") !== undefined,
          perTryTimeout,
        },
        ctx,
        start,
      });
      reply = clientReply(answer, strategy.responseHeaders?.(answer.backend, ctx), req);
    } catch (err) {
      if (answer) release(answer.backend);
      answer = undefined;
      reply = failure(err, req, options.retryAfterSeconds, log);
    }
    const backend = answer?.backend;
    // The response headers' arrival is the end of what the duration measures.
    const elapsed = (answer?.at ?? now()) - start;
    backend?.latency.add(elapsed);
    recorder.record(
      backend ?? NO_BACKEND,
      backend?.id ?? "none",
      req.method,
      reply.status,
      elapsed / 1000,
    );
    return new Exchange(reply, req, backend, start);
  }

  function release(backend: Backend): void {
    backend.inFlight--;
    limiter(backend).release();
  }

  return { handle, pickContext, options };
}

/**
 * The request body as bytes when it has a Content-Length that fits the retry
 * buffer (so it can be sent again), else the stream as it is. Bodies of
 * unknown length are never buffered: they could be arbitrarily large.
 */
async function replayableBody(
  req: ProxyRequest,
  limit: number,
): Promise<ReadableStream<Uint8Array> | Uint8Array | null> {
  const body = req.body;
  if (!(body instanceof ReadableStream) || limit === 0) return body;
  const length = req.contentLength;
  if (length === undefined || length > limit) return body;
  return await readAll(body, length);
}

/** Reads a stream of known length whole, into one array. */
async function readAll(body: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let off = 0;
  for await (const chunk of body) {
    if (off + chunk.length > length) {
      throw new BadRequestError("body longer than its Content-Length");
    }
    out.set(chunk, off);
    off += chunk.length;
  }
  if (off !== length) throw new BadRequestError("body shorter than its Content-Length");
  return out;
}

/** The client's reply from the backend's response, headers cleaned. */
function clientReply(
  answer: Answer,
  extra: [string, string][] | undefined,
  req: ProxyRequest,
): ProxyReply {
  const upstream = answer.upstream;
  const status = upstream.status;
  if (status === 101) {
    // Only a request that offered an upgrade gets one (the transport checks).
    if (!upstream.upgrade || req.upgrade === undefined) {
      upstream.upgrade?.conn.close();
      throw new UpstreamError("protocol", "unexpected 101 Switching Protocols");
    }
    // The tunnel's head keeps Upgrade and Connection: they are its point.
    const headers = clientResponseHeaders(upstream.headers);
    headers.push(["connection", "upgrade"], [
      "upgrade",
      headerValue(upstream.headers, "upgrade") ?? "",
    ]);
    if (extra) headers.push(...extra);
    return { status, headers, body: null, upgrade: upstream.upgrade };
  }
  if (status < 200 || status > 599) {
    // Outside what clients (and Deno.serve) accept as a final status.
    if (upstream.body instanceof ReadableStream) upstream.body.cancel().catch(() => {});
    upstream.upgrade?.conn.close();
    throw new UpstreamError("protocol", `unusable response status ${status}`);
  }
  const headers = clientResponseHeaders(upstream.headers);
  if (extra) headers.push(...extra);
  return { status, headers, body: upstream.body };
}

/** Stands for "no backend answered" in the request metrics. */
const NO_BACKEND = {};

function failure(err: unknown, req: ProxyRequest, retryAfter: number, log: Logger): ProxyReply {
  const status = statusFor(err);
  if (err instanceof ClientAbortError) {
    log.debug("client went away: {method} {path}", { method: req.method, path: req.path });
  } else if (status >= 500) {
    log.warning("{method} {path} failed with {status}: {error}", {
      method: req.method,
      path: req.path,
      status,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  // A body the client sent but nobody read must be drained or cancelled so
  // the connection is not left holding it.
  if (req.body instanceof ReadableStream) req.body.cancel().catch(() => {});
  return errorReply(err, retryAfter);
}
