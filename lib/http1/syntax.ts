/**
 * HTTP/1.1 message syntax shared by the request parser (the h1 front) and
 * the response parser (the h1 transport): field lines (RFC 9110 §5, RFC 9112
 * §5), token characters, Content-Length values, and latin1 decoding of head
 * bytes. Pure functions over strings and bytes.
 *
 * @module
 */

/** A message that breaks the protocol: a request is refused, a response never forwarded. */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

/** Decodes head bytes 1:1 (latin1), as HTTP field bytes are octets, not UTF-8. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return ASCII.decode(buf.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode(...buf.subarray(i, Math.min(end, i + 4096)));
  }
  return s;
}
const ASCII = new TextDecoder();

/** tchar (RFC 9110 §5.6.2), by character code. */
export const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1;

/** Field value characters: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5). No CTLs, no DEL. */
export function validValueChar(c: number): boolean {
  return c >= 0x20 ? c !== 0x7f && c <= 0xff : c === 0x09;
}

/** Parses one `name: value` line; shared with chunked trailers. */
export function parseFieldLine(line: string): [string, string] {
  return parseFieldAt(line, 0, line.length);
}

/** Parses the field line `text[start, end)`. */
export function parseFieldAt(text: string, start: number, end: number): [string, string] {
  const first = text.charCodeAt(start);
  // RFC 9112 §5.2: obs-fold must be rejected (or replaced) by a proxy.
  if (first === 0x20 || first === 0x09) throw new ParseError("obsolete line folding");
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) break;
    // RFC 9112 §5.1: no whitespace between name and colon; must be rejected.
    if (c >= 128 || TCHAR[c] === 0) {
      throw new ParseError(`invalid header name ${JSON.stringify(text.slice(start, end))}`);
    }
  }
  if (i === start || i === end) throw new ParseError("header line without a name and colon");
  const name = text.slice(start, i).toLowerCase();
  let vs = i + 1;
  let ve = end;
  while (vs < ve && (text.charCodeAt(vs) === 0x20 || text.charCodeAt(vs) === 0x09)) vs++;
  while (ve > vs && (text.charCodeAt(ve - 1) === 0x20 || text.charCodeAt(ve - 1) === 0x09)) ve--;
  for (let j = vs; j < ve; j++) {
    if (!validValueChar(text.charCodeAt(j))) throw new ParseError(`invalid byte in header ${name}`);
  }
  return [name, text.slice(vs, ve)];
}

/** `Content-Length`: digits, or a list of identical values (RFC 9110 §8.6). */
export function parseContentLength(value: string): number {
  // Scanned by character code: this runs for nearly every response.
  let result: number | undefined;
  let n = -1; // digits of the current element so far, as a number; -1 before any
  let digits = 0;
  let sawSpaceAfter = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i === value.length ? 0x2c : value.charCodeAt(i); // a final "," ends the last element
    if (c >= 0x30 && c <= 0x39) {
      // OWS is SP and HTAB only (RFC 9110 §5.6.3), and only around an element.
      if (sawSpaceAfter || ++digits > 15) throw invalidLength(value);
      n = (n === -1 ? 0 : n * 10) + (c - 0x30);
    } else if (c === 0x20 || c === 0x09) {
      if (n !== -1) sawSpaceAfter = true;
    } else if (c === 0x2c) {
      if (n === -1) throw invalidLength(value);
      if (result !== undefined && result !== n) {
        throw new ParseError("conflicting Content-Length values");
      }
      result = n;
      n = -1;
      digits = 0;
      sawSpaceAfter = false;
    } else {
      throw invalidLength(value);
    }
  }
  if (result === undefined) throw new ParseError("empty Content-Length");
  return result;
}

function invalidLength(value: string): ParseError {
  return new ParseError(`invalid Content-Length ${JSON.stringify(value)}`);
}
