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

/**
 * Frames body pieces as chunks in one reusable buffer, so each chunk goes
 * out in one write without allocating per chunk. The returned view is valid
 * until the next call: write it before framing the next piece.
 */
export class ChunkFramer {
  #buf = new Uint8Array(64 * 1024 + 32);

  frame(data: Uint8Array): Uint8Array {
    const sizeLine = data.length.toString(16) + "\r\n";
    const total = sizeLine.length + data.length + 2;
    if (total > this.#buf.length) this.#buf = new Uint8Array(total);
    const buf = this.#buf;
    encoder.encodeInto(sizeLine, buf);
    buf.set(data, sizeLine.length);
    buf[total - 2] = 13;
    buf[total - 1] = 10;
    return buf.subarray(0, total);
  }
}

/** The last chunk and an empty trailer section. */
export const LAST_CHUNK: Uint8Array = encoder.encode("0\r\n\r\n");
