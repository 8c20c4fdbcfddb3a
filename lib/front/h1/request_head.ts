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
 * @module
 */

import type { HeaderPairs } from "../../core/transport.ts";
import { latin1, parseContentLength, ParseError, parseFieldAt, TCHAR } from "../../http1/syntax.ts";

/** A request the front must refuse; `status` is what the client gets before the connection closes. */
export class RequestError extends Error {
  /** `status`: 400 malformed, 414 target too long, 431 head too large, 501 transfer coding, 505 version. */
  constructor(readonly status: 400 | 414 | 431 | 501 | 505, message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Largest head accepted, leading empty lines and request line included; more is a 431. */
export const MAX_REQUEST_HEAD_BYTES = 64 * 1024;
/** Most field lines accepted in one head; more is a 431. */
export const MAX_REQUEST_FIELDS = 100;
/** Longest request-target accepted; longer is a 414 (RFC 9112 §3: at least 8000 octets). */
export const MAX_TARGET_BYTES = 8 * 1024;

/** How the request's content is delimited (RFC 9112 §6.3 rules 3-7). */
export type RequestFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

/** A parsed, validated request head. */
export interface RequestHead {
  /** A token, case kept (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** The request-target's form (RFC 9112 §3.2). */
  readonly form: "origin" | "absolute" | "authority" | "asterisk";
  /**
   * What goes upstream: origin-form path and query. For absolute-form, the
   * path+query of the URI ("/" when empty); for asterisk "*"; for
   * authority-form the target itself.
   */
  readonly path: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  /** Field lines in order: lower-cased names, values trimmed of SP/HTAB; obs-text bytes as latin1 chars. */
  readonly fields: HeaderPairs;
  /** The Host field value, or null when absent (HTTP/1.0 may omit it). */
  readonly host: string | null;
  /** How the content is delimited; "none" without Content-Length or Transfer-Encoding. */
  readonly framing: RequestFraming;
  /** Whether the client allows another request on this connection (RFC 9112 §9.3: 1.1 unless `close`; 1.0 only with `keep-alive`). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` (case-insensitive) on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
  /** The `Upgrade` value when `Connection` lists `upgrade` (HTTP/1.1 only), else undefined. */
  readonly upgrade: string | undefined;
}

const NUL = 0;
const HTAB = 9;
const LF = 10;
const CR = 13;
const SP = 32;

/**
 * The index just past the head's terminating empty line within
 * `buf[start, end)`, or -1 when more bytes are needed. Leading empty lines
 * (CRLF) before the request line are allowed (RFC 9112 §2.2) and are part of
 * the head.
 *
 * Every error is found at the byte that causes it, so the verdict is the same
 * however the bytes arrived: 431 once more than MAX_REQUEST_HEAD_BYTES have
 * come without a terminator, 400 at once on a bare CR or LF or a NUL (so a
 * client can't make us wait for an end that will never come), and 414 as soon
 * as the request line's target alone exceeds MAX_TARGET_BYTES.
 *
 * Stateless, so each call scans from `start` again (about 1 ns a byte). A
 * caller reading from a socket should call it again only when a read brought
 * an LF (a head can end only there) or the limit was passed: a head dripped a
 * byte at a time then costs one scan per line, and lines are capped at
 * MAX_REQUEST_FIELDS + 1.
 */
export function findRequestHeadEnd(buf: Uint8Array, start: number, end: number): number {
  // Bytes past the limit are never looked at: whatever they are, 431 comes first.
  const limit = Math.min(end, start + MAX_REQUEST_HEAD_BYTES);
  let i = start;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
  // request line (some clients send a CRLF after a POST body).
  while (i + 1 < limit && buf[i] === CR && buf[i + 1] === LF) i += 2;
  i = requestLineEnd(buf, i, limit);
  if (i !== -1) i = fieldsEnd(buf, i, limit);
  if (i !== -1) return i;
  if (end - start > MAX_REQUEST_HEAD_BYTES) {
    throw new RequestError(431, `request head over ${MAX_REQUEST_HEAD_BYTES} bytes`);
  }
  return -1;
}

/** Index past the request line's CRLF in `buf[i, limit)`, or -1 when it hasn't all arrived. */
function requestLineEnd(buf: Uint8Array, i: number, limit: number): number {
  // Where the target starts once the first SP is seen; -2 after the second.
  let target = -1;
  for (; i < limit; i++) {
    const b = buf[i];
    if (b === SP) {
      target = target === -1 ? i + 1 : -2;
      continue;
    }
    if (b <= CR) {
      const eol = lineBreak(buf, i, limit);
      if (eol === 2) return i + 2;
      if (eol === 1) return -1;
    }
    if (target >= 0 && i - target >= MAX_TARGET_BYTES) {
      throw new RequestError(414, `request-target over ${MAX_TARGET_BYTES} bytes`);
    }
  }
  return -1;
}

/** Index past the empty line ending the field lines that start at `i`, or -1. */
function fieldsEnd(buf: Uint8Array, i: number, limit: number): number {
  let lineStart = i;
  let lines = 0;
  for (; i < limit; i++) {
    // Field bytes above CR are all either valid or rejected later by parseFieldAt.
    if (buf[i] > CR) continue;
    const eol = lineBreak(buf, i, limit);
    if (eol === 1) return -1;
    if (eol === 2) {
      if (i === lineStart) return i + 2;
      // Counted here too, so a head dripped line by line is rescanned at most this often.
      if (++lines > MAX_REQUEST_FIELDS) {
        throw new RequestError(431, `more than ${MAX_REQUEST_FIELDS} field lines`);
      }
      lineStart = ++i + 1;
    }
  }
  return -1;
}

/**
 * Classifies the control byte at `buf[i]`: 2 for a CRLF, 1 for a CR that is
 * the last byte available, 0 for anything parsing will judge (HTAB, other
 * CTLs). Throws on a bare LF, a bare CR (RFC 9112 §2.2: MUST NOT be treated
 * as a line break by a recipient that might disagree with another) or a NUL.
 */
function lineBreak(buf: Uint8Array, i: number, limit: number): 0 | 1 | 2 {
  const b = buf[i];
  if (b === CR) {
    if (i + 1 === limit) return 1;
    if (buf[i + 1] === LF) return 2;
    throw new RequestError(400, "bare CR in request head");
  }
  if (b === LF) throw new RequestError(400, "bare LF in request head");
  if (b === NUL) throw new RequestError(400, "NUL in request head");
  return 0;
}

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

/** What the request line says. */
type RequestLine = Pick<RequestHead, "method" | "target" | "form" | "path" | "minor">;

/** `method SP request-target SP HTTP-version` (RFC 9112 §3), exactly one SP each. */
function parseRequestLine(text: string, from: number, to: number): RequestLine {
  let sp = from;
  while (sp < to && isTchar(text.charCodeAt(sp))) sp++;
  if (sp === from || sp === to || text.charCodeAt(sp) !== SP) {
    throw new RequestError(400, "method is not a token followed by one space");
  }
  const t = sp + 1;
  let tEnd = t;
  while (tEnd < to && text.charCodeAt(tEnd) !== SP) tEnd++;
  if (tEnd - t > MAX_TARGET_BYTES) {
    throw new RequestError(414, `request-target over ${MAX_TARGET_BYTES} bytes`);
  }
  if (tEnd === t || tEnd === to) {
    throw new RequestError(400, "request line is not method, target and version");
  }
  for (let i = t; i < tEnd; i++) {
    const c = text.charCodeAt(i);
    // Visible ASCII (RFC 3986 has nothing else); a fragment is never sent (RFC 9110 §7.1).
    if (c < 0x21 || c > 0x7e || c === 0x23) {
      throw new RequestError(400, "request-target has a byte outside visible ASCII, or a #");
    }
  }
  const minor = parseVersion(text, tEnd + 1, to);
  const method = text.slice(from, sp);
  const target = text.slice(t, tEnd);
  const { form, path } = targetForm(method, target);
  return { method, target, form, path, minor };
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** `HTTP/1.1` or `HTTP/1.0`; another well-formed `HTTP/d.d` is 505 (RFC 9110 §15.6.6). */
function parseVersion(text: string, from: number, to: number): 0 | 1 {
  const digit = (i: number) => text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39;
  // RFC 9112 §2.3: HTTP-name is case-sensitive.
  if (
    to - from !== 8 || !text.startsWith("HTTP/", from) || !digit(from + 5) ||
    text.charCodeAt(from + 6) !== 0x2e || !digit(from + 7)
  ) {
    throw new RequestError(400, "HTTP-version is not HTTP/d.d");
  }
  const version = text.slice(from + 5, to);
  if (version === "1.1") return 1;
  if (version === "1.0") return 0;
  throw new RequestError(505, `HTTP/${version} is not supported`);
}

/**
 * The form of `target` (RFC 9112 §3.2) and the path to send upstream.
 * Authority-form is only for CONNECT and asterisk-form only for OPTIONS.
 */
function targetForm(method: string, target: string): Pick<RequestHead, "form" | "path"> {
  const connect = method === "CONNECT";
  if (target.charCodeAt(0) === 0x2f && !connect) return { form: "origin", path: target };
  if (target === "*" && method === "OPTIONS") return { form: "asterisk", path: "*" };
  if (connect) {
    // §3.2.3: authority-form = uri-host ":" port, no userinfo.
    if (!validHostPort(target, true)) throw new RequestError(400, "CONNECT needs host:port");
    return { form: "authority", path: target };
  }
  const scheme = target.slice(0, 8).toLowerCase();
  const after = scheme.startsWith("http://") ? 7 : scheme === "https://" ? 8 : -1;
  if (after === -1) throw new RequestError(400, "request-target in no form for this method");
  let authorityEnd = after;
  while (authorityEnd < target.length) {
    const c = target.charCodeAt(authorityEnd);
    if (c === 0x2f || c === 0x3f) break;
    authorityEnd++;
  }
  // RFC 9110 §4.2.1: an http(s) URI without a host is invalid; §4.2.4:
  // userinfo is an error (a host in disguise), so it is not a valid host here.
  if (!validHostPort(target.slice(after, authorityEnd), false)) {
    throw new RequestError(400, "absolute-form target without a valid host");
  }
  const rest = target.slice(authorityEnd);
  // §3.2.4: an OPTIONS of an empty path and no query goes on as "*".
  if (rest === "") return { form: "absolute", path: method === "OPTIONS" ? "*" : "/" };
  return { form: "absolute", path: rest.charCodeAt(0) === 0x3f ? "/" + rest : rest };
}

/** The field lines from `pos` up to the final empty line, as lower-case name and trimmed value. */
function parseFields(text: string, pos: number): HeaderPairs {
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
function interpret(line: RequestLine, fields: HeaderPairs): RequestHead {
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

/** A Content-Length field's value, which must equal any earlier one (RFC 9110 §8.6). */
function contentLength(value: string, earlier: number | undefined): number {
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
function framing(
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

/**
 * Whether the comma-separated `list` has `token` (lower-case) as a member,
 * ignoring case and OWS (RFC 9110 §5.6.1), without allocating.
 */
function hasToken(list: string, token: string): boolean {
  for (let i = 0; i <= list.length;) {
    let e = list.indexOf(",", i);
    if (e === -1) e = list.length;
    const [a, b] = trimmed(list, i, e);
    if (equalsLower(list, a, b, token)) return true;
    i = e + 1;
  }
  return false;
}

/** `[a, b)` within `[from, to)` without leading and trailing SP/HTAB. */
function trimmed(s: string, from: number, to: number): [number, number] {
  while (from < to && (s.charCodeAt(from) === SP || s.charCodeAt(from) === HTAB)) from++;
  while (to > from && (s.charCodeAt(to - 1) === SP || s.charCodeAt(to - 1) === HTAB)) to--;
  return [from, to];
}

/** Whether `s[from, to)` is `lower` ignoring ASCII case. */
function equalsLower(s: string, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(from + i);
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** reg-name characters (RFC 3986 §3.2.2): unreserved and sub-delims, but not "," (a list of hosts). */
const REG_NAME = new Uint8Array(128);
for (const ch of "-._~!$&'()*+;=") REG_NAME[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) REG_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) REG_NAME[c] = REG_NAME[c + 32] = 1;

/**
 * Whether `s` is `uri-host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a
 * non-empty reg-name (which covers IPv4) or a bracketed IPv6 address, then
 * 1-5 digits up to 65535 when a port is there. `portRequired` for CONNECT.
 */
function validHostPort(s: string, portRequired: boolean): boolean {
  let hostEnd: number;
  if (s.charCodeAt(0) === 0x5b) {
    hostEnd = s.indexOf("]") + 1;
    if (hostEnd === 0 || !validIPv6(s, 1, hostEnd - 1)) return false;
  } else {
    hostEnd = 0;
    while (hostEnd < s.length && s.charCodeAt(hostEnd) !== 0x3a) hostEnd++;
    if (hostEnd === 0) return false;
    for (let i = 0; i < hostEnd; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x25 ? !(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) : !REG_NAME[c]) {
        return false;
      }
      if (c === 0x25) i += 2;
    }
  }
  if (hostEnd === s.length) return !portRequired;
  if (s.charCodeAt(hostEnd) !== 0x3a || s.length - hostEnd - 1 > 5) return false;
  return decimal(s, hostEnd + 1, s.length) <= 65535;
}

/** The value of the digits `s[from, to)`, or NaN when empty or not all digits. */
function decimal(s: string, from: number, to: number): number {
  if (from === to) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * IPv6address (RFC 3986 §3.2.2): eight pieces of 1-4 hex digits, one `::`
 * standing for one or more zero pieces, the last two optionally an IPv4
 * address. IPvFuture and zone identifiers are refused.
 */
function validIPv6(s: string, from: number, to: number): boolean {
  let pieces = 0;
  let compressed = false;
  let i = from;
  if (s.startsWith("::", i)) {
    compressed = true;
    i += 2;
  }
  while (i < to) {
    let j = i;
    while (j < to && j - i < 5 && isHex(s.charCodeAt(j))) j++;
    if (j < to && s.charCodeAt(j) === 0x2e) {
      // A dotted IPv4 tail takes the place of the last two pieces.
      if (!validIPv4(s, i, to)) return false;
      pieces += 2;
      break;
    }
    if (j === i || j - i > 4) return false;
    pieces++;
    if (j === to) break;
    if (s.charCodeAt(j) !== 0x3a || j + 1 === to) return false;
    i = j + 1;
    if (s.charCodeAt(i) === 0x3a) {
      if (compressed) return false;
      compressed = true;
      i++;
    }
  }
  return compressed ? pieces < 8 : pieces === 8;
}

/** IPv4address (RFC 3986 §3.2.2): four dec-octets 0-255 without leading zeros. */
function validIPv4(s: string, from: number, to: number): boolean {
  const parts = s.slice(from, to).split(".");
  if (parts.length !== 4) return false;
  return parts.every((p) =>
    p.length <= 3 && (p === "0" || p[0] !== "0") && decimal(p, 0, p.length) <= 255
  );
}
