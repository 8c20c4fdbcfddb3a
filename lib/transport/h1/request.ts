/**
 * Request framing (RFC 9112 §3, §6, §7.1): the head as one string encoded
 * once, and chunk framing for bodies of unknown length.
 *
 * @module
 */

import type { HeaderPairs } from "../types.ts";

const encoder = new TextEncoder();

/** How the request body is framed on the wire. */
export type RequestFraming = "none" | "length" | "chunked";

/**
 * Serializes a request head. `headers` is sent as it is (the proxy already
 * removed hop-by-hop fields); for a chunked body `Transfer-Encoding` is added.
 * Throws on a target with whitespace or control bytes, which would let one
 * request be read as two.
 */
export function encodeRequestHead(
  method: string,
  target: string,
  headers: HeaderPairs,
  framing: RequestFraming,
  scratch?: Uint8Array,
): Uint8Array {
  // deno-lint-ignore no-control-regex -- matching control bytes is the point
  if (/[\x00-\x20\x7f]/.test(target)) throw new TypeError("invalid request target");
  let head = method + " " + target + " HTTP/1.1\r\n";
  for (let i = 0; i < headers.length; i++) head += headers[i][0] + ": " + headers[i][1] + "\r\n";
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  head += "\r\n";
  // Encoding into the connection's scratch buffer saves an allocation per
  // request; a head that doesn't fit gets its own array.
  if (scratch) {
    const { read, written } = encoder.encodeInto(head, scratch);
    // All ASCII when every character took one byte (the usual case).
    if (read === head.length && written === head.length) return scratch.subarray(0, written);
  }
  const bytes = encoder.encode(head);
  return bytes.length === head.length ? bytes : latin1Bytes(head);
}

/**
 * Header values are byte strings: Deno.serve hands an obs-text byte (0x80-0xFF)
 * over as one latin1 character, which must go out as that one byte again,
 * not UTF-8 encoded.
 */
function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
