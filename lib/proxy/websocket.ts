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
 * backend) may only send 1000 or 3000-4999, as browsers; any other code a
 * client closes with is sent to the backend as `4000 + code % 1000` (1001 ->
 * 4001, 1011 -> 4011), and when the backend answers with that same mapped code
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
import type { Logger } from "../core/logging.ts";
import type { ProxyRequest } from "../core/message.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import { type HeaderPairs, UpstreamError } from "../core/transport.ts";
import {
  BadRequestError,
  errorResponse,
  NoBackendError,
  PolicyAnswer,
  statusFor,
} from "./errors.ts";
import type { ProxyCore } from "./handler.ts";
import { Tunnel, type TunnelSet } from "./websocket_tunnel.ts";

export { closeCodeToBackend, Tunnel, TunnelSet } from "./websocket_tunnel.ts";

/** What {@link createWebSocketHandler} needs besides the core. */
export interface WebSocketDeps {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  readonly config: WebSocketConfig;
  /** Open tunnels, shared across handler generations so shutdown can drain them. */
  readonly tunnels: TunnelSet;
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

/**
 * Handles an upgrade request: the core routes and balances it through its
 * one retry loop, with opening a WebSocket to the backend as the attempt;
 * the client is upgraded only once a backend has accepted. `request` is the
 * handshake as the neutral request the core reads.
 */
export async function proxyWebSocket(
  core: ProxyCore,
  deps: WebSocketDeps,
  req: Request,
  request: ProxyRequest,
): Promise<Response> {
  try {
    if (deps.tunnels.draining) throw new NoBackendError();
    const protocols = offeredProtocols(req.headers.get("sec-websocket-protocol"));
    const opened = await core.openTunnel(request, (backend, path, headers, timeoutMs) => {
      const origin = backend.spec.origin.replace(/^http/, "ws");
      return openSocket(origin + path, protocols, backendHandshakeHeaders(headers), timeoutMs);
    });
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(req, { protocol: opened.value.protocol || undefined });
    } catch (err) {
      opened.value.close(1000);
      opened.release();
      throw new BadRequestError(`not a valid WebSocket handshake (${(err as Error).message})`);
    }
    for (const [name, value] of opened.responseHeaders ?? []) {
      upgraded.response.headers.append(name, value);
    }
    const backend = { id: opened.backend.id, release: opened.release };
    new Tunnel(upgraded.socket, opened.value, backend, deps);
    return upgraded.response;
  } catch (err) {
    const status = statusFor(err);
    // A policy's own 503 (a store or auth service down) is counted by the policy, not logged
    // per request; a failure on a route with policies is.
    if (status >= 500 && (!(err instanceof PolicyAnswer) || err.failure !== undefined)) {
      deps.log.warning("WebSocket {path} failed with {status}: {error}", {
        path: request.path,
        status,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return errorResponse(err, 1);
  }
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
 * WebSocket: tcp connect error", "...: Invalid status code: 404").
 */
function handshakeError(url: string, message: string): UpstreamError {
  const text = `WebSocket handshake with ${url} failed: ${message}`;
  if (/invalid status code/i.test(message)) return new UpstreamError("protocol", text);
  if (/tcp connect|connection refused/i.test(message)) {
    return new UpstreamError("connect_refused", text);
  }
  return new UpstreamError("reset", text);
}
