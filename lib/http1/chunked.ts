/**
 * An incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
 * feed it bytes as they arrive, split anywhere, and it hands out the data and
 * says when the body (trailers included) has ended. Pure: no I/O.
 *
 * Chunk extensions are accepted and ignored (§7.1.1); trailer fields are
 * validated like header fields and then dropped, because `Deno.serve` can't
 * send trailers to the client.
 *
 * @module
 */

import { ParseError, parseFieldLine } from "./syntax.ts";

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
    const semi = line.indexOf(";");
    const sizeText = (semi === -1 ? line : line.slice(0, semi)).replace(/[ \t]+$/, "");
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) {
      throw new ParseError(`invalid chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    }
    // deno-lint-ignore no-control-regex -- matching control bytes is the point
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) {
      throw new ParseError("control byte in chunk extension");
    }
    const size = parseInt(sizeText, 16);
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

function latin1Slice(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}
