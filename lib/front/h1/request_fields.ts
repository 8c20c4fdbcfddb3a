/**
 * The field lines of a request head (RFC 9112 §5) and what they say about
 * the request: Host (RFC 9112 §3.2), framing (`request_framing.ts`) and the
 * connection options (keep-alive, `Expect: 100-continue`, Upgrade). One pass
 * over the fields builds the whole {@link RequestHead}, so a request's
 * fields are looked at once, by name, on the common path.
 *
 * @module
 */

import type { HeaderPairs } from "../../core/transport.ts";
import { ParseError, parseFieldAt } from "../../http1/syntax.ts";
import type { RequestHead } from "./request_head_types.ts";
import { MAX_REQUEST_FIELDS, RequestError } from "./request_limits.ts";
import type { RequestLine } from "./request_line.ts";
import { contentLength, framing } from "./request_framing.ts";
import { hasToken } from "./field_lists.ts";
import { validHostPort } from "./uri_host.ts";

/** The field lines from `pos` up to the final empty line, as lower-case name and trimmed value. */
export function parseFields(text: string, pos: number): HeaderPairs {
  const fields: HeaderPairs = [];
  const last = text.length - 2;
  try {
    while (pos < last) {
      const eol = text.indexOf("\r\n", pos);
      // parseFieldAt rejects obs-fold, whitespace before the colon, an empty
      // name and any CTL (bare CR, NUL) in the value (RFC 9112 §5).
      fields.push(parseFieldAt(text, pos, eol));
      if (fields.length > MAX_REQUEST_FIELDS) {
        throw new RequestError(431, `more than ${MAX_REQUEST_FIELDS} field lines`);
      }
      pos = eol + 2;
    }
  } catch (err) {
    throw err instanceof ParseError ? new RequestError(400, err.message) : err;
  }
  return fields;
}

/** What the fields say about the request: Host, framing and connection options. */
export function interpret(line: RequestLine, fields: HeaderPairs): RequestHead {
  const minor = line.minor;
  let host: string | null = null;
  let length: number | undefined;
  let codings: string | undefined;
  let close = false;
  let persist = minor === 1;
  let upgradeListed = false;
  let upgrade: string | undefined;
  let expectContinue = false;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    switch (name) {
      case "host":
        // RFC 9112 §3.2: more than one Host, or an invalid one, MUST be a 400.
        if (host !== null) throw new RequestError(400, "more than one Host field");
        if (!validHostPort(value, false)) {
          throw new RequestError(400, "Host is not uri-host[:port]");
        }
        host = value;
        break;
      case "content-length":
        length = contentLength(value, length);
        break;
      case "transfer-encoding":
        codings = codings === undefined ? value : `${codings},${value}`;
        break;
      case "connection":
        close ||= hasToken(value, "close");
        persist ||= hasToken(value, "keep-alive");
        upgradeListed ||= hasToken(value, "upgrade");
        break;
      case "upgrade":
        upgrade = upgrade === undefined ? value : `${upgrade}, ${value}`;
        break;
      case "expect":
        expectContinue ||= hasToken(value, "100-continue");
        break;
    }
  }
  if (host === null && minor === 1) throw new RequestError(400, "HTTP/1.1 request without Host");
  return {
    method: line.method,
    target: line.target,
    form: line.form,
    path: line.path,
    minor,
    fields,
    host,
    framing: framing(minor, length, codings),
    keepAlive: persist && !close,
    // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 MUST be ignored.
    expectContinue: expectContinue && minor === 1,
    // RFC 9110 §7.8: Upgrade in HTTP/1.0 MUST be ignored; it counts only when
    // Connection lists it, as a hop-by-hop field.
    upgrade: upgradeListed && minor === 1 && upgrade !== "" ? upgrade : undefined,
  };
}
