/**
 * Parsing of HTTP/1.1 response heads (RFC 9112 §4-§6), as pure functions over
 * bytes. Strict where leniency lets a backend smuggle or corrupt what the
 * client sees: obs-fold, bare CR or LF, whitespace before the colon, invalid
 * name or value bytes, conflicting `Content-Length`, and `Content-Length`
 * with `Transfer-Encoding` are all errors, and such a response becomes a 502.
 *
 * @module
 */

import {
  parseContentLength,
  ParseError,
  parseFieldAt,
  validValueChar,
} from "../../http1/syntax.ts";

/** Largest response head accepted (Deno.serve's request limit is the same). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Most header fields accepted in one head. */
export const MAX_FIELDS = 256;

/** A parsed status line and header fields. */
export interface ResponseHead {
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  readonly status: number;
  readonly reason: string;
  /** Field lines in order: lower-cased names, values without surrounding whitespace. */
  readonly fields: [string, string][];
}

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "close" };

const CR = 13;
const LF = 10;

/**
 * Finds the end of a head in `buf[start, end)`: the index just past the empty
 * line, or -1 when more bytes are needed. A bare LF is an error at once, so a
 * backend can't make us wait for a terminator that will never come.
 */
export function findHeadEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    if (buf[i] !== LF) continue;
    if (i === start || buf[i - 1] !== CR) throw new ParseError("bare LF in response head");
    // `\r\n\r\n` ends the head.
    if (i - start >= 3 && buf[i - 2] === LF && buf[i - 3] === CR) {
      // The limit holds however the bytes arrived, in one read or many.
      if (i + 1 - start > MAX_HEAD_BYTES) throw new ParseError("response head too large");
      return i + 1;
    }
  }
  if (end - start > MAX_HEAD_BYTES) throw new ParseError("response head too large");
  return -1;
}

/**
 * Parses a complete head (as returned by {@link findHeadEnd}, terminator
 * included). Scans by character code rather than splitting and matching each
 * line, since this runs once per proxied response.
 */
export function parseResponseHead(text: string): ResponseHead {
  const statusEnd = text.indexOf("\r\n");
  // `HTTP/1.x SP 3DIGIT [SP reason]`, checked by character code (RFC 9112 §4).
  const minor = text.charCodeAt(7) - 0x30;
  const d1 = text.charCodeAt(9) - 0x30;
  const d2 = text.charCodeAt(10) - 0x30;
  const d3 = text.charCodeAt(11) - 0x30;
  if (
    !text.startsWith("HTTP/1.") || (minor !== 0 && minor !== 1) || text.charCodeAt(8) !== 0x20 ||
    !(d1 >= 1 && d1 <= 9) || !(d2 >= 0 && d2 <= 9) || !(d3 >= 0 && d3 <= 9) ||
    (statusEnd > 12 && text.charCodeAt(12) !== 0x20) || statusEnd < 12
  ) {
    throw new ParseError(
      `malformed status line ${JSON.stringify(text.slice(0, Math.min(statusEnd, 64)))}`,
    );
  }
  const reason = statusEnd > 12 ? text.slice(13, statusEnd) : "";
  for (let i = 0; i < reason.length; i++) {
    if (!validValueChar(reason.charCodeAt(i))) {
      throw new ParseError("control character in reason phrase");
    }
  }
  const fields: [string, string][] = [];
  // The head ends with an empty line: stop at the final "\r\n\r\n".
  const last = text.length - 2;
  for (let pos = statusEnd + 2; pos < last;) {
    const eol = text.indexOf("\r\n", pos);
    fields.push(parseFieldAt(text, pos, eol));
    if (fields.length > MAX_FIELDS) throw new ParseError("too many header fields");
    pos = eol + 2;
  }
  return { minor: minor as 0 | 1, status: d1 * 100 + d2 * 10 + d3, reason, fields };
}

/**
 * Decides the body's framing (RFC 9112 §6.3) and rejects ambiguous framing.
 * `requestMethod` matters because a response to HEAD never has a body.
 */
export function responseFraming(head: ResponseHead, requestMethod: string): Framing {
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  for (const [name, value] of head.fields) {
    if (name === "content-length") {
      const n = parseContentLength(value);
      if (contentLength !== undefined && contentLength !== n) {
        throw new ParseError("conflicting Content-Length values");
      }
      contentLength = n;
    } else if (name === "transfer-encoding") {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    }
  }
  // §6.3 rule 1: HEAD responses, 1xx, 204 and 304 end at the head.
  const s = head.status;
  if (requestMethod === "HEAD" || s < 200 || s === 204 || s === 304) {
    return { kind: "none" };
  }
  if (transferEncoding !== undefined) {
    // §6.3 rule 3: a message with both may be an attempt at request smuggling.
    if (contentLength !== undefined) {
      throw new ParseError("both Content-Length and Transfer-Encoding");
    }
    const codings = transferEncoding.split(",").map((c) => c.trim().toLowerCase());
    const chunkedAt = codings.indexOf("chunked");
    if (chunkedAt !== -1 && chunkedAt !== codings.length - 1) {
      throw new ParseError("chunked is not the final transfer coding");
    }
    if (head.minor === 0) throw new ParseError("Transfer-Encoding in an HTTP/1.0 response");
    // §6.3 rule 4: otherwise the body runs to the end of the connection.
    return chunkedAt === -1 ? { kind: "close" } : { kind: "chunked" };
  }
  if (contentLength !== undefined) return { kind: "length", length: contentLength };
  return { kind: "close" };
}

/**
 * Whether the connection can carry another request after this response
 * (RFC 9112 §9.3): not when either side said `close`, not for HTTP/1.0
 * without `keep-alive`, and not when the body runs to the connection's end.
 */
export function keepAlive(head: ResponseHead, framing: Framing): boolean {
  if (framing.kind === "close") return false;
  let close = head.minor === 0;
  for (const [name, value] of head.fields) {
    if (name !== "connection") continue;
    // The two values nearly every backend sends, without splitting.
    if (value === "keep-alive") {
      close = false;
      continue;
    }
    if (value === "close") return false;
    for (const token of value.split(",")) {
      const t = token.trim().toLowerCase();
      if (t === "close") return false;
      if (t === "keep-alive") close = false;
    }
  }
  return !close;
}
