/**
 * The proxy request path: validate, rewrite headers, pick a backend, send
 * through the transport, retry when it is safe, and map failures to
 * responses. Everything it decides is delegated to pure functions
 * (`headers.ts`, `retry.ts`, `errors.ts`); this file only sequences them.
 *
 * @module
 */

import type { Cidr } from "../cidr.ts";
import type { Logger } from "../logging.ts";
import { type LbMetrics, methodLabel, statusClass } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool.ts";
import type { Strategy } from "../strategy/mod.ts";
import {
  ClientAbortError,
  type Transport,
  UpstreamError,
  type UpstreamResponse,
} from "../transport/types.ts";
import { BadRequestError, errorResponse, NoBackendError, statusFor } from "./errors.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import { mayRetry } from "./retry.ts";

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
  /** Monotonic milliseconds. */
  readonly now?: () => number;
}

/** A `Deno.serve` handler that proxies to the pool. */
export type ProxyHandler = (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;

/** Creates the proxy handler. */
export function createProxyHandler(options: ProxyOptions): ProxyHandler {
  const { pool, strategy, transport, metrics, log, accessLog, retries, trustProxy } = options;
  const now = options.now ?? (() => performance.now());

  return async function proxy(req, info) {
    const start = now();
    metrics.inFlight.inc();
    let backend: Backend | undefined;
    let response: Response;
    let streaming = false;
    try {
      const host = req.headers.get("host");
      // RFC 9112 §3.2: a request without Host must be refused with 400.
      if (host === null || host === "") throw new BadRequestError("missing Host header");
      const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
      const headers = upstreamRequestHeaders(
        req.headers,
        { ip: clientIp, proto: "http", host },
        trustProxy,
      );
      const request = {
        method: req.method,
        path: originForm(req.url),
        headers,
        body: req.body,
        signal: req.signal,
      };
      const tried = new Set<Backend>();
      let lastError: unknown;
      let upstream: UpstreamResponse | undefined;
      for (let attempt = 0; attempt <= retries; attempt++) {
        const candidate = strategy.pick(pool.healthy, { exclude: tried });
        if (!candidate) break;
        tried.add(candidate);
        candidate.inFlight++;
        candidate.requests++;
        try {
          upstream = await transport.request(candidate.spec, request);
          backend = candidate;
          break;
        } catch (err) {
          candidate.inFlight--;
          if (!(err instanceof UpstreamError)) throw err;
          lastError = err;
          candidate.failures++;
          metrics.upstreamErrors.labels(candidate.id, err.kind).inc();
          if (!err.mayHaveReached) pool.markDown(candidate, err.message, Date.now());
          const retry = attempt < retries &&
            mayRetry(err, { method: req.method, hasBody: req.body !== null });
          log.debug("{backend}: {kind} ({error}){retrying}", {
            backend: candidate.id,
            kind: err.kind,
            error: err.message,
            retrying: retry ? ", retrying" : "",
          });
          if (!retry) break;
          metrics.retries.labels(err.kind).inc();
        }
      }
      // Errors are built only on failure: capturing a stack costs a microsecond.
      if (!upstream || !backend) throw lastError ?? new NoBackendError();
      response = toClientResponse(upstream);
      streaming = upstream.body instanceof ReadableStream;
      backend.latency.add(now() - start);
    } catch (err) {
      if (backend) backend.inFlight--;
      backend = undefined;
      response = failure(err, req, options.retryAfterSeconds, log);
    }
    const label = backend?.id ?? "none";
    const elapsed = now() - start;
    metrics.requests.labels(label, methodLabel(req.method), statusClass(response.status)).inc();
    metrics.duration.labels(label).observe(elapsed / 1000);
    if (accessLog) response = logAccess(accessLog, req, response, label, start, now, info);
    const done = backend;
    const settle = () => {
      metrics.inFlight.dec();
      if (done) done.inFlight--;
    };
    // A body already in memory is as good as delivered; only a streamed one
    // keeps the request (and its backend) busy until the client has it all.
    if (streaming) info.completed.finally(settle).catch(() => {});
    else settle();
    return response;
  };
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
function toClientResponse(upstream: UpstreamResponse): Response {
  const headers = clientResponseHeaders(upstream.headers);
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
