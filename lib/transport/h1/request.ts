/**
 * Request framing (RFC 9112 §3, §6, §7.1): the head as one string, and
 * chunk framing for bodies of unknown length.
 *
 * @module
 */

import type { HeaderPairs } from "../../core/transport.ts";

/** How the request body is framed on the wire. */
export type RequestFraming = "none" | "length" | "chunked";

/**
 * A request head as text (latin1, written by `head_writes.ts`). `headers` is
 * sent as it is (the proxy already removed hop-by-hop fields); for a chunked
 * body `Transfer-Encoding` is added.
 * Throws on a target with whitespace or control bytes, which would let one
 * request be read as two.
 */
export function requestHead(
  method: string,
  target: string,
  headers: HeaderPairs,
  framing: RequestFraming,
): string {
  // deno-lint-ignore no-control-regex -- matching control bytes is the point
  if (/[\x00-\x20\x7f]/.test(target)) throw new TypeError("invalid request target");
  let head = method + " " + target + " HTTP/1.1\r\n";
  for (let i = 0; i < headers.length; i++) head += headers[i][0] + ": " + headers[i][1] + "\r\n";
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  return head + "\r\n";
}
