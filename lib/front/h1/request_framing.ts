/**
 * How a request's content is delimited (RFC 9112 §6.1-§6.3, RFC 9110 §8.6):
 * Content-Length and Transfer-Encoding, with every ambiguous case refused.
 * Its own module because these are the request-smuggling rules: a proxy and
 * a backend that delimit one request differently read the bytes after it
 * as different requests, so anything two readers could disagree on is a
 * 400, and a transfer coding we would have to decode is a 501.
 *
 * @module
 */

import { parseContentLength, ParseError } from "../../http1/syntax.ts";
import type { RequestFraming } from "./request_head_types.ts";
import { RequestError } from "./request_limits.ts";
import { equalsLower, isTchar, trimmed } from "./field_lists.ts";

const HTAB = 9;
const SP = 32;

/** A Content-Length field's value, which must equal any earlier one (RFC 9110 §8.6). */
export function contentLength(value: string, earlier: number | undefined): number {
  // parseContentLength trims with String#trim, which also strips NBSP (0xA0,
  // obs-text here): only OWS may surround the digits (RFC 9110 §5.6.1).
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x30 || c > 0x39) && c !== 0x2c && c !== SP && c !== HTAB) {
      throw new RequestError(400, `invalid Content-Length ${JSON.stringify(value)}`);
    }
  }
  let n: number;
  try {
    n = parseContentLength(value);
  } catch (err) {
    throw err instanceof ParseError ? new RequestError(400, err.message) : err;
  }
  if (earlier !== undefined && earlier !== n) {
    throw new RequestError(400, "conflicting Content-Length values");
  }
  return n;
}

const NONE: RequestFraming = Object.freeze({ kind: "none" });
const CHUNKED: RequestFraming = Object.freeze({ kind: "chunked" });

/** The request's framing (RFC 9112 §6.1-§6.3), refusing every ambiguous case. */
export function framing(
  minor: 0 | 1,
  length: number | undefined,
  codings: string | undefined,
): RequestFraming {
  if (codings === undefined) return length === undefined ? NONE : { kind: "length", length };
  // §6.1: both may be an attempt at request smuggling; a server MAY reject it.
  if (length !== undefined) throw new RequestError(400, "Content-Length with Transfer-Encoding");
  // §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
  if (minor === 0) throw new RequestError(400, "Transfer-Encoding in an HTTP/1.0 request");
  checkCodings(codings);
  return CHUNKED;
}

/**
 * Transfer codings (RFC 9112 §6.1, §7): `chunked` must be last (§6.3 rule 4,
 * else 400) and only once; any other coding is a 501, since we don't decode
 * transfer codings. Empty list elements are ignored (RFC 9110 §5.6.1).
 */
function checkCodings(list: string): void {
  let chunked = 0;
  let other = "";
  let lastChunked = false;
  for (let i = 0; i <= list.length;) {
    let e = list.indexOf(",", i);
    if (e === -1) e = list.length;
    const [a, b] = trimmed(list, i, e);
    i = e + 1;
    if (a === b) continue;
    for (let j = a; j < b; j++) {
      const c = list.charCodeAt(j);
      if (!isTchar(c)) throw new RequestError(400, "transfer coding is not a token");
    }
    lastChunked = equalsLower(list, a, b, "chunked");
    if (lastChunked) chunked++;
    else other ||= list.slice(a, b);
  }
  if (chunked === 0 && other === "") throw new RequestError(400, "empty Transfer-Encoding");
  if (!lastChunked) throw new RequestError(400, "chunked is not the final transfer coding");
  if (chunked > 1) throw new RequestError(400, "chunked applied more than once");
  if (other !== "") throw new RequestError(501, `transfer coding ${other} is not supported`);
}
