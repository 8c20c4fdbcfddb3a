/**
 * Turning what came back into what the client gets: the backend's response
 * with hop-by-hop fields removed, an error reply, or a hook's `Response`.
 * Also the request-body rule for retries (bodies that fit the retry buffer
 * are read whole so they can be sent again).
 *
 * @module
 */

import type { Logger } from "../core/logging.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import {
  ClientAbortError,
  type HeaderPairs,
  headerValue,
  UpstreamError,
  type UpstreamResponse,
} from "../core/transport.ts";
import { BadRequestError, errorReply, statusFor } from "./errors.ts";
import { clientResponseHeaders, headerPairs } from "./headers.ts";
import type { LbHooks } from "./hooks.ts";

/**
 * The request body as bytes when it has a Content-Length that fits the retry
 * buffer (so it can be sent again), else the stream as it is. Bodies of
 * unknown length are never buffered: they could be arbitrarily large.
 */
export async function replayableBody(
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
export function clientReply(
  upstream: UpstreamResponse,
  extra: HeaderPairs | undefined,
  req: ProxyRequest,
): ProxyReply {
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
    discardResponse(upstream);
    throw new UpstreamError("protocol", `unusable response status ${status}`);
  }
  const headers = clientResponseHeaders(upstream.headers);
  if (extra) headers.push(...extra);
  return { status, headers, body: upstream.body };
}

/** A hook's `Response` as a reply; its hop-by-hop fields are removed like a backend's. */
export function responseReply(res: Response): ProxyReply {
  return {
    status: res.status,
    headers: clientResponseHeaders(headerPairs(res.headers)),
    body: res.body,
  };
}

/** The reply for a failure: logged by severity, the request body let go, the hook's shape if any. */
export function failureReply(
  err: unknown,
  req: ProxyRequest,
  retryAfter: number,
  log: Logger,
  hooks: LbHooks | undefined,
): ProxyReply {
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
  letBodyGo(req.body);
  const shaped = hooks?.errorResponse?.({ status, error: err, request: req });
  return shaped ? responseReply(shaped) : errorReply(err, retryAfter);
}

/** Cancels a body nobody will read (a stream's; bytes in hand need nothing). */
export function letBodyGo(body: ReadableStream<Uint8Array> | Uint8Array | null): void {
  if (body instanceof ReadableStream) body.cancel().catch(() => {});
}

/** Lets a backend's response go unused: its body cancelled, a handed-over socket closed. */
export function discardResponse(res: UpstreamResponse): void {
  letBodyGo(res.body);
  res.upgrade?.conn.close();
}
