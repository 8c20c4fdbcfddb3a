/**
 * Parsing of HTTP/1.1 request heads for the h1 front (RFC 9112 §2-§3, §5-§6,
 * §9.3), as pure functions over bytes: the request-side twin of
 * lib/transport/h1/head.ts. Strict wherever leniency would let a client make
 * us and a backend read different requests from the same bytes (request
 * smuggling) or make us wait or buffer without bound: bare CR or LF, NUL,
 * obs-fold, whitespace before the colon, a second Host, Content-Length with
 * Transfer-Encoding, and transfer codings we would have to decode are all
 * refused with a {@link RequestError} whose status the client gets before the
 * connection closes.
 *
 * The head's bytes are scanned to find its end, then decoded to a string
 * once and parsed by character code, with no regular expression on the
 * common path: this runs for every request.
 *
 * This module is the parser's entry point and its public surface (callers
 * import from here only); the rules live in one module each, importing only
 * downwards: `request_head_end.ts` finds where a head ends, `request_line.ts`
 * parses the request line and target, `request_fields.ts` the field lines
 * and what they say, `request_framing.ts` the Content-Length and
 * Transfer-Encoding rules, `uri_host.ts` the Host grammar and
 * `field_lists.ts` token lists; `request_limits.ts` and
 * `request_head_types.ts` hold the limits, the error and the result type.
 *
 * @module
 */

import { latin1 } from "../../http1/syntax.ts";
import { MAX_REQUEST_HEAD_BYTES, RequestError } from "./request_limits.ts";
import type { RequestHead } from "./request_head_types.ts";
import { parseRequestLine } from "./request_line.ts";
import { interpret, parseFields } from "./request_fields.ts";

export {
  MAX_REQUEST_FIELDS,
  MAX_REQUEST_HEAD_BYTES,
  MAX_TARGET_BYTES,
  RequestError,
} from "./request_limits.ts";
export type { RequestFraming, RequestHead } from "./request_head_types.ts";
export { findRequestHeadEnd } from "./request_head_end.ts";

const LF = 10;
const CR = 13;

/**
 * Parses a complete head `buf[start, end)` (end as returned by
 * {@link findRequestHeadEnd}): request line, field lines, Host, framing and
 * connection options. Throws RequestError.
 */
export function parseRequestHead(buf: Uint8Array, start: number, end: number): RequestHead {
  if (end - start > MAX_REQUEST_HEAD_BYTES) {
    throw new RequestError(431, `request head over ${MAX_REQUEST_HEAD_BYTES} bytes`);
  }
  const text = latin1(buf, start, end);
  if (!text.endsWith("\r\n\r\n")) throw new RequestError(400, "head not ended by an empty line");
  let pos = 0;
  while (text.charCodeAt(pos) === CR && text.charCodeAt(pos + 1) === LF) pos += 2;
  const lineEnd = text.indexOf("\r\n", pos);
  if (lineEnd === -1) throw new RequestError(400, "no request line");
  const line = parseRequestLine(text, pos, lineEnd);
  return interpret(line, parseFields(text, lineEnd + 2));
}
