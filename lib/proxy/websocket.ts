/**
 * WebSocket tunnelling. A request with `Upgrade: websocket` is balanced like
 * any other (the strategy picks from the healthy snapshot; a backend that
 * can't be reached is marked down and the next one is tried, up to
 * `retries`), but instead of an HTTP exchange the lb opens its own WebSocket
 * to the backend first and upgrades the client only once the backend has
 * accepted, so the subprotocol the backend chose is the one the client gets
 * and a refusal is still an ordinary 502/503/504.
 *
 * Messages are relayed whole: Deno's sockets reassemble fragmented messages
 * before delivering them, so a message fragmented by one peer reaches the
 * other as one frame (RFC 6455 §5.4 lets intermediaries re-fragment). Pings
 * are answered by Deno on each hop and are not relayed.
 *
 * Close codes travel both ways. Deno's client socket (the lb's hop to the
 * backend) may only send 1000 or 3000–4999, as browsers; any other code a
 * client closes with is sent to the backend as `4000 + code % 1000` (1001 →
 * 4001, 1011 → 4011), and when the backend answers with that same mapped code
 * the client gets its original code back. The lb's server-side socket can
 * send every valid code, so a backend's 1001 or 1011 reaches the client as
 * it is. A backend whose connection ends without a close frame closes the
 * client with 1011 (1014 if it never sent a message).
 *
 * Shutdown (checked on Deno 2.9.6): `server.shutdown()` does not wait for
 * upgraded connections. It sends every open WebSocket a close frame 1001
 * "Server shutting down" and resolves at once. To keep tunnels running
 * through `--shutdown-timeout`, the shutdown sequence must call
 * {@link TunnelSet.drain} (which also refuses new tunnels) before it shuts
 * the server down.
 *
 * @module
 */

import type { WebSocketConfig } from "../config/types.ts";
import type { Cidr } from "../core/cidr.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import type { PickContext, Strategy } from "../balancing/mod.ts";
import { UpstreamError } from "../core/transport.ts";
import { BadRequestError, errorResponse, NoBackendError, statusFor } from "./errors.ts";
import { type HeaderPairs, headerPairs, upstreamRequestHeaders } from "./headers.ts";
import { Tunnel, type TunnelSet } from "./websocket_tunnel.ts";

export { closeCodeToBackend, Tunnel, TunnelSet } from "./websocket_tunnel.ts";

/** What {@link createWebSocketHandler} needs. */
export interface WebSocketDeps {
  readonly pool: Pool;
  readonly strategy: Strategy;
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Extra attempts after the first handshake failure. */
  readonly retries: number;
  readonly trustProxy: readonly Cidr[];
  /** The scheme clients reach the lb with, for `X-Forwarded-Proto`. */
  readonly proto: "http" | "https";
  /** Seconds a 503 tells clients to wait. */
  readonly retryAfterSeconds: number;
  readonly config: WebSocketConfig;
  /** Time for the backend's handshake to complete. */
  readonly connectTimeoutMs: number;
  /** Open tunnels, shared across handler generations so shutdown can drain them. */
  readonly tunnels: TunnelSet;
  /** Builds the pick context (hash key, cookie) the same way HTTP requests do. */
  readonly pickContext: (headers: HeaderPairs, clientIp: string, path: string) => PickContext;
}

/** Whether `req` asks for a WebSocket (RFC 6455 §4.1: `Upgrade: websocket`, case-insensitive). */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * The handshake headers for the backend: the forwarding headers, without
 * the client's own handshake fields (`Sec-WebSocket-*`, which Deno's client
 * generates for its hop) and without `Host`, which Deno's client always sets
 * from the URL (the client's is in `X-Forwarded-Host`).
 */
export function backendHandshakeHeaders(fields: HeaderPairs): HeaderPairs {
  return fields.filter(([name]) =>
    !name.startsWith("sec-websocket-") && name !== "upgrade" && name !== "connection" &&
    name !== "host"
  );
}

/** The subprotocols a client offered (RFC 6455 §4.1), in its order. */
export function offeredProtocols(value: string | null): string[] {
  return (value ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/** Creates the handler for upgrade requests. */
export function createWebSocketHandler(
  deps: WebSocketDeps,
): (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  const { metrics, log } = deps;
  return async function tunnel(req, info) {
    const start = performance.now();
    let backend: Backend | undefined;
    let response: Response;
    try {
      if (deps.tunnels.draining) throw new NoBackendError();
      const host = req.headers.get("host");
      if (host === null || host === "") throw new BadRequestError("missing Host header");
      const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
      const url = new URL(req.url);
      // Path and query only: an absolute-form target never chooses the backend.
      const path = url.pathname + url.search;
      const fields = headerPairs(req.headers);
      const headers = backendHandshakeHeaders(
        upstreamRequestHeaders(
          fields,
          { ip: clientIp, proto: deps.proto, host },
          deps.trustProxy,
        ),
      );
      const protocols = offeredProtocols(req.headers.get("sec-websocket-protocol"));
      const ctx = { ...deps.pickContext(fields, clientIp, path), exclude: new Set<Backend>() };
      const opened = await connectWithRetries(deps, ctx, path, protocols, headers);
      backend = opened.backend;
      let upgraded: { socket: WebSocket; response: Response };
      try {
        upgraded = Deno.upgradeWebSocket(req, { protocol: opened.socket.protocol || undefined });
      } catch (err) {
        opened.socket.close(1000);
        backend.inFlight--;
        throw new BadRequestError(`not a valid WebSocket handshake (${(err as Error).message})`);
      }
      for (const [name, value] of deps.strategy.responseHeaders?.(backend, ctx) ?? []) {
        upgraded.response.headers.append(name, value);
      }
      new Tunnel(upgraded.socket, opened.socket, backend, deps);
      response = upgraded.response;
    } catch (err) {
      const status = statusFor(err);
      if (status >= 500) {
        log.warning("WebSocket {path} failed with {status}: {error}", {
          path: new URL(req.url).pathname,
          status,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      backend = undefined;
      response = errorResponse(err, deps.retryAfterSeconds);
    }
    const label = backend?.id ?? "none";
    metrics.requests.labels(label, "GET", `${Math.floor(response.status / 100)}xx`).inc();
    metrics.duration.labels(label).observe((performance.now() - start) / 1000);
    return response;
  };
}

/**
 * Opens a WebSocket to a backend picked by the strategy, trying the next
 * one after a failure: a handshake is a bodiless GET, safe to repeat.
 * A backend that answered with something other than 101 is not retried:
 * the next one would most likely answer the same. The returned backend's
 * `inFlight` has been incremented.
 */
async function connectWithRetries(
  deps: WebSocketDeps,
  ctx: PickContext & { readonly exclude: Set<Backend> },
  path: string,
  protocols: string[],
  headers: HeaderPairs,
): Promise<{ backend: Backend; socket: WebSocket }> {
  let lastError: UpstreamError | undefined;
  for (let attempt = 0; attempt <= deps.retries; attempt++) {
    const backend = deps.strategy.pick(deps.pool.healthy, ctx);
    if (!backend) break;
    ctx.exclude.add(backend);
    if (lastError) deps.metrics.retries.labels(lastError.kind).inc();
    backend.inFlight++;
    backend.requests++;
    const origin = backend.spec.origin.replace(/^http/, "ws");
    try {
      const socket = await openSocket(origin + path, protocols, headers, deps.connectTimeoutMs);
      return { backend, socket };
    } catch (err) {
      backend.inFlight--;
      if (!(err instanceof UpstreamError)) throw err;
      lastError = err;
      backend.failures++;
      deps.metrics.upstreamErrors.labels(backend.id, err.kind).inc();
      if (err.unreachable) deps.pool.markDown(backend, err.message, Date.now());
      if (err.kind === "protocol") break;
    }
  }
  throw lastError ?? new NoBackendError();
}

/** Opens a client socket and waits for `open`, at most `timeoutMs`. */
function openSocket(
  url: string,
  protocols: string[],
  headers: HeaderPairs,
  timeoutMs: number,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { protocols, headers });
    socket.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      reject(new UpstreamError("connect_timeout", `WebSocket handshake with ${url} timed out`));
      socket.close();
    }, timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = (e) => {
      clearTimeout(timer);
      reject(handshakeError(url, (e as ErrorEvent).message ?? ""));
    };
  });
}

/**
 * Classifies Deno's handshake error messages ("failed to connect to
 * WebSocket: tcp connect error", "…: Invalid status code: 404").
 */
function handshakeError(url: string, message: string): UpstreamError {
  const text = `WebSocket handshake with ${url} failed: ${message}`;
  if (/invalid status code/i.test(message)) return new UpstreamError("protocol", text);
  if (/tcp connect|connection refused/i.test(message)) {
    return new UpstreamError("connect_refused", text);
  }
  return new UpstreamError("reset", text);
}
