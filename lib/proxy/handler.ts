/**
 * The proxy request path: validate, rewrite headers, pick a backend, send
 * through the transport, retry when it is safe, and map failures to
 * responses. Everything it decides is delegated to pure functions
 * (`headers.ts`, `retry.ts`, `errors.ts`); this file only sequences them.
 *
 * @module
 */

import type { Cidr } from "../cidr.ts";
import type { WebSocketConfig } from "../config_ops.ts";
import type { HashKey, LimitsConfig, OutlierConfig, RetryConfig } from "../config_policy.ts";
import type { Logger } from "../logging.ts";
import { type LbMetrics, methodLabel, statusClass } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool.ts";
import { BackendLimiter } from "../resilience/limiter.ts";
import { RetryBudget } from "../resilience/retry_budget.ts";
import type { Strategy } from "../strategy/mod.ts";
import {
  ClientAbortError,
  type Transport,
  UpstreamError,
  type UpstreamResponse,
} from "../transport/types.ts";
import { type Answer, sendWithRetries } from "./attempts.ts";
import { BadRequestError, errorResponse, statusFor } from "./errors.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import { requestKey } from "./request_key.ts";
import { createWebSocketHandler, isWebSocketUpgrade, TunnelSet } from "./websocket.ts";

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
  /** WebSocket tunnel limits; 5 min idle and 1 MiB buffered by default. */
  readonly websocket?: WebSocketConfig;
  /** Time for a backend's WebSocket handshake; 5 s by default. */
  readonly connectTimeoutMs?: number;
  /** Open WebSocket tunnels; pass one set to every handler generation so shutdown can drain it. */
  readonly tunnels?: TunnelSet;
}

/** A `Deno.serve` handler that proxies to the pool. */
export type ProxyHandler = (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;

/** Creates the proxy handler. */
export function createProxyHandler(options: ProxyOptions): ProxyHandler {
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
  const perTryTimeout = retry.tryTimeoutMs < options.responseTimeoutMs;
  const proto = options.proto ?? "http";
  const webSocket = createWebSocketHandler({
    ...options,
    proto,
    config: options.websocket ?? { idleTimeoutMs: 300_000, maxBufferedBytes: 1024 * 1024 },
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    tunnels: options.tunnels ?? new TunnelSet(),
    pickContext: (req, clientIp, target) => pickContext(req, clientIp, target, now()),
  });

  /** What the strategy may read of a request: its hash key and cookies, only when used. */
  function pickContext(req: Request, clientIp: string, target: string, at: number) {
    return {
      now: at,
      hashKey: options.hashKey
        ? requestKey(options.hashKey, { headers: req.headers, clientIp, target })
        : undefined,
      cookie: options.readsCookies ? req.headers.get("cookie") : undefined,
    };
  }

  return async function proxy(req, info) {
    // Upgrades bypass the HTTP path: a tunnel is not a request/response exchange.
    if (isWebSocketUpgrade(req)) return webSocket(req, info);
    const start = now();
    metrics.inFlight.inc();
    budget.recordRequest(start);
    let answer: Answer | undefined;
    let response: Response;
    let streaming = false;
    try {
      const host = requestHost(req, proto);
      // RFC 9112 §3.2: a request without Host must be refused with 400.
      if (host === null || host === "") throw new BadRequestError("missing Host header");
      const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
      const path = originForm(req.url);
      const headers = upstreamRequestHeaders(
        req.headers,
        { ip: clientIp, proto, host },
        trustProxy,
      );
      // HTTP/2 carries the authority in `:authority`; the backend speaks HTTP/1.1 and needs Host.
      if (!req.headers.has("host")) headers.push(["host", host]);
      // Most requests have no body: skip the await (and its microtask) for them.
      const body = req.body === null ? null : await replayableBody(req, retry.bufferBytes);
      const ctx = { exclude: new Set<Backend>(), ...pickContext(req, clientIp, path, start) };
      answer = await sendWithRetries(deps, {
        request: { method: req.method, path, headers, body, signal: req.signal },
        facts: {
          method: req.method,
          hasBody: req.body !== null,
          replayable: body instanceof Uint8Array,
          idempotencyKey: req.headers.has("idempotency-key"),
          perTryTimeout,
        },
        ctx,
        start,
      });
      response = toClientResponse(answer.upstream, strategy.responseHeaders?.(answer.backend, ctx));
      streaming = answer.upstream.body instanceof ReadableStream;
      answer.backend.latency.add(now() - start);
    } catch (err) {
      if (answer) release(answer.backend);
      answer = undefined;
      response = failure(err, req, options.retryAfterSeconds, log);
    }
    const backend = answer?.backend;
    const label = backend?.id ?? "none";
    metrics.requests.labels(label, methodLabel(req.method), statusClass(response.status)).inc();
    metrics.duration.labels(label).observe((now() - start) / 1000);
    if (accessLog) response = logAccess(accessLog, req, response, label, start, now, info);
    const settle = () => {
      metrics.inFlight.dec();
      if (backend) release(backend);
    };
    // A body already in memory is as good as delivered; only a streamed one
    // keeps the request (and its backend) busy until the client has it all.
    if (streaming) info.completed.finally(settle).catch(() => {});
    else settle();
    return response;
  };

  function release(backend: Backend): void {
    backend.inFlight--;
    limiter(backend).release();
  }
}

/**
 * The request's authority. `Deno.serve` gives HTTP/2 requests no `Host`
 * header, only `:authority` folded into `req.url`, and it builds the same
 * kind of URL (with a made-up `localhost:PORT`) for an HTTP/1.1 request
 * lacking Host, so the two can't be told apart. On the TLS listener, where
 * ALPN negotiates HTTP/2, the URL's authority is taken; on the plain one
 * (HTTP/1.1, or h2c with prior knowledge) a missing Host stays an error.
 */
function requestHost(req: Request, proto: "http" | "https"): string | null {
  const host = req.headers.get("host");
  if (host !== null || proto === "http") return host;
  const start = req.url.indexOf("://") + 3;
  const end = req.url.indexOf("/", start);
  return req.url.slice(start, end === -1 ? undefined : end);
}

/**
 * The request body as bytes when it has a Content-Length that fits the retry
 * buffer (so it can be sent again), else the stream as it is. Bodies of
 * unknown length are never buffered: they could be arbitrarily large.
 */
async function replayableBody(
  req: Request,
  limit: number,
): Promise<ReadableStream<Uint8Array> | Uint8Array | null> {
  if (req.body === null || limit === 0) return req.body;
  const length = Number(req.headers.get("content-length") ?? NaN);
  if (!(length <= limit)) return req.body;
  return new Uint8Array(await req.arrayBuffer());
}

/**
 * The origin-form target (RFC 9112 §3.2.1) of a request URL. For an
 * absolute-form request (`GET http://elsewhere/ HTTP/1.1`) Deno puts the
 * client's authority in `req.url`; only the path and query are kept, so the
 * target can never choose where the request goes.
 */
export function originForm(url: string): string {
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  return slash === -1 ? "/" : url.slice(slash);
}

/** Builds the client's response from the backend's, headers cleaned. */
function toClientResponse(
  upstream: UpstreamResponse,
  extra: [string, string][] | undefined,
): Response {
  const headers = clientResponseHeaders(upstream.headers);
  if (extra) headers.push(...extra);
  try {
    return new Response(upstream.body, { status: upstream.status, headers });
  } catch (err) {
    // Status outside 200-599 (Deno can't send it): malformed for our purposes.
    if (upstream.body instanceof ReadableStream) upstream.body.cancel().catch(() => {});
    upstream.upgrade?.conn.close();
    throw new UpstreamError("protocol", `unusable response status ${upstream.status}`, {
      cause: err,
    });
  }
}

function failure(err: unknown, req: Request, retryAfter: number, log: Logger): Response {
  const status = statusFor(err);
  if (err instanceof ClientAbortError) {
    log.debug("client went away: {method} {url}", { method: req.method, url: req.url });
  } else if (status >= 500) {
    log.warning("{method} {path} failed with {status}: {error}", {
      method: req.method,
      path: originForm(req.url),
      status,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  // A body the client sent but nobody read must be drained or cancelled so
  // the connection is not left holding it.
  req.body?.cancel().catch(() => {});
  return errorResponse(err, retryAfter);
}

function logAccess(
  log: Logger,
  req: Request,
  response: Response,
  backend: string,
  start: number,
  now: () => number,
  info: Deno.ServeHandlerInfo,
): Response {
  // Request and connection details are gone once the exchange completes.
  const method = req.method;
  const path = originForm(req.url);
  const client = (info.remoteAddr as Deno.NetAddr).hostname;
  let bytes = 0;
  const counted = response.body?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  info.completed.finally(() => {
    log.info("{method} {path} {status} {backend} {durationMs}ms {bytes}B", {
      method,
      path,
      status: response.status,
      backend,
      durationMs: Math.round((now() - start) * 10) / 10,
      bytes,
      client,
    });
  }).catch(() => {});
  if (!counted) return response;
  return new Response(counted, { status: response.status, headers: response.headers });
}
