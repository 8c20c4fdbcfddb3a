/**
 * An incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
 * feed it bytes as they arrive, split anywhere, and it hands out the data and
 * says when the body (trailers included) has ended. Pure: no I/O.
 *
 * Chunk extensions are checked against their grammar (§7.1.1) and then
 * ignored: a size line is where parsers that disagree let a second message be
 * smuggled inside a body, so anything else is an error. Trailer fields are
 * validated like header fields and then dropped, because `Deno.serve` can't
 * send trailers to the client.
 *
 * @module
 */

import { ParseError, parseFieldLine, TCHAR } from "./syntax.ts";

/** Longest chunk-size line (size, extensions) or trailer line accepted. */
const MAX_LINE = 4096;
/** Largest trailer section accepted. */
const MAX_TRAILERS = 16 * 1024;

const enum State {
  Size,
  Data,
  DataEnd,
  Trailer,
  Done,
}

/** Decodes one chunked body. */
export class ChunkedDecoder {
  #state = State.Size;
  /** Bytes of a line split across inputs. */
  #line = "";
  #remaining = 0;
  #trailerBytes = 0;

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Consumes bytes from `buf[start, end)`, calling `onData` with views of the
   * data (valid only during the call: copy them if `buf` is reused). Returns
   * how many bytes were consumed; less than given only once `done`.
   */
  decode(
    buf: Uint8Array,
    start: number,
    end: number,
    onData: (data: Uint8Array) => void,
  ): number {
    let i = start;
    while (i < end && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Size:
        case State.Trailer: {
          const lineEnd = this.#readLine(buf, i, end);
          if (lineEnd === -1) return end - start;
          i = lineEnd;
          const line = this.#line;
          this.#line = "";
          if (this.#state === State.Size) this.#sizeLine(line);
          else this.#trailerLine(line);
          break;
        }
        case State.Data: {
          const n = Math.min(this.#remaining, end - i);
          onData(buf.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.DataEnd;
          break;
        }
        case State.DataEnd: {
          const lineEnd = this.#readLine(buf, i, end);
          if (lineEnd === -1) return end - start;
          i = lineEnd;
          if (this.#line !== "") throw new ParseError("chunk data longer than its size");
          this.#state = State.Size;
          break;
        }
      }
    }
    return i - start;
  }

  /**
   * Accumulates one CRLF-terminated line into `#line`. Returns the index past
   * the CRLF, or -1 when the line continues in the next input.
   */
  #readLine(buf: Uint8Array, start: number, end: number): number {
    for (let i = start; i < end; i++) {
      if (buf[i] !== 10) continue;
      const line = this.#line + latin1Slice(buf, start, i);
      if (line.charCodeAt(line.length - 1) !== 13) throw new ParseError("bare LF in chunked body");
      this.#line = line.slice(0, -1);
      if (this.#line.includes("\r")) throw new ParseError("bare CR in chunked body");
      this.#checkLength();
      return i + 1;
    }
    this.#line += latin1Slice(buf, start, end);
    this.#checkLength();
    return -1;
  }

  #checkLength(): void {
    if (this.#line.length > MAX_LINE) throw new ParseError("chunked line too long");
  }

  #sizeLine(line: string): void {
    let digits = 0;
    while (hexValue(line.charCodeAt(digits)) !== -1) digits++;
    // 14 hex digits could exceed 2^53 bytes, which can't be counted exactly.
    const next = line.charCodeAt(digits);
    if (
      digits === 0 || digits > 13 ||
      (digits < line.length && next !== 0x3b && next !== 0x20 && next !== 0x09)
    ) {
      throw new ParseError(`invalid chunk size ${JSON.stringify(line.slice(0, 20))}`);
    }
    if (digits < line.length) checkExtensions(line, digits);
    let size = 0;
    for (let i = 0; i < digits; i++) size = size * 16 + hexValue(line.charCodeAt(i));
    if (size === 0) {
      this.#state = State.Trailer;
    } else {
      this.#remaining = size;
      this.#state = State.Data;
    }
  }

  #trailerLine(line: string): void {
    if (line === "") {
      this.#state = State.Done;
      return;
    }
    this.#trailerBytes += line.length + 2;
    if (this.#trailerBytes > MAX_TRAILERS) throw new ParseError("trailer section too large");
    parseFieldLine(line);
  }
}

/** The value of hex digit `c`, or -1 (also for NaN, past the end of a line). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Checks `line[i..]` against `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS
 * chunk-ext-val ] )` (RFC 9112 §7.1.1), where a name is a token and a value a
 * token or a quoted-string. No whitespace may end the line: BWS is only
 * allowed before a ";" or around an "=".
 */
function checkExtensions(line: string, i: number): void {
  while (i < line.length) {
    i = skipBws(line, i);
    if (line.charCodeAt(i) !== 0x3b) throw new ParseError("chunk extension without a ;");
    i = expectToken(line, skipBws(line, i + 1), "chunk extension name");
    const afterName = i;
    i = skipBws(line, i);
    if (line.charCodeAt(i) !== 0x3d) {
      i = afterName;
      continue;
    }
    i = skipBws(line, i + 1);
    i = line.charCodeAt(i) === 0x22
      ? quotedStringEnd(line, i)
      : expectToken(line, i, "chunk extension value");
  }
}

function skipBws(line: string, i: number): number {
  while (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09) i++;
  return i;
}

/** The index past a token (RFC 9110 §5.6.2) at `line[i]`; throws when there is none. */
function expectToken(line: string, i: number, what: string): number {
  const from = i;
  while (i < line.length && line.charCodeAt(i) < 128 && TCHAR[line.charCodeAt(i)] === 1) i++;
  if (i === from) throw new ParseError(`invalid ${what}`);
  return i;
}

/**
 * The index past the quoted-string (RFC 9110 §5.6.4) opening at `line[i]`:
 * qdtext is HTAB, SP, VCHAR but `"` and `\`, and obs-text; a quoted-pair is
 * `\` then HTAB, SP, VCHAR or obs-text.
 */
function quotedStringEnd(line: string, i: number): number {
  for (i++; i < line.length; i++) {
    let c = line.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) c = line.charCodeAt(++i);
    if (c !== 0x09 && (c < 0x20 || c === 0x7f)) {
      throw new ParseError("control byte in a chunk extension's quoted string");
    }
  }
  throw new ParseError("unterminated quoted string in a chunk extension");
}

function latin1Slice(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}
