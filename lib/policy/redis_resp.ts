/**
 * RESP2, the Redis protocol, as far as a rate-limit store needs it:
 * commands are arrays of bulk strings; replies are simple strings, errors,
 * integers, bulk strings and arrays (https://redis.io/docs/latest/develop/reference/protocol-spec/).
 * The reader is incremental: bytes go in as they arrive, and a reply comes
 * out only once it is whole, so replies split across reads (or several in
 * one read, as pipelining gives) are matched to commands in order.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;
const LF = 10;

/** An error reply (`-ERR ...`, `-NOSCRIPT ...`): a value, so callers can tell kinds apart. */
export class RespError {
  constructor(readonly message: string) {}
  /** The first word: `ERR`, `NOSCRIPT`, `WRONGPASS`... */
  get code(): string {
    const space = this.message.indexOf(" ");
    return space < 0 ? this.message : this.message.slice(0, space);
  }
}

/** A decoded reply. Bulk strings are text; nil bulks and arrays are null. */
export type RespValue = string | number | null | RespError | RespValue[];

/** One command part: text (sent as a bulk string) or bytes already in RESP (sent as they are). */
export type RespPart = string | Uint8Array;

/** `args` as one RESP command's parts (each a bulk string). */
export function command(...args: (string | number)[]): RespPart[] {
  return [encoder.encode(`*${args.length}\r\n`), ...args.map(String)];
}

/** RESP bytes of `args` as a command prefix that declares `total` elements (the rest to follow). */
export function commandHead(total: number, ...args: string[]): Uint8Array {
  return encoder.encode(`*${total}\r\n${args.map(bulkText).join("")}`);
}

/** RESP bytes of `args` as bulk strings, for the end of a command. */
export function bulks(...args: (string | number)[]): Uint8Array {
  return encoder.encode(args.map((a) => bulkText(String(a))).join(""));
}

function bulkText(text: string): string {
  return `$${encoder.encode(text).length}\r\n${text}\r\n`;
}

/** A growable byte buffer that commands are encoded into before a write. */
export class RespWriter {
  #buf = new Uint8Array(4096);
  #len = 0;

  /** Bytes waiting. */
  get length(): number {
    return this.#len;
  }

  /** Appends a command's parts. */
  write(parts: readonly RespPart[]): void {
    for (const part of parts) {
      if (typeof part === "string") this.#bulk(part);
      else this.#raw(part);
    }
  }

  /** Everything waiting, and empties the buffer. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#len = 0;
  }

  #bulk(text: string): void {
    // Text is encoded once, after a header whose size depends on it.
    const bytes = encoder.encode(text);
    this.#ascii(`$${bytes.length}\r\n`);
    this.#raw(bytes);
    this.#ascii("\r\n");
  }

  #ascii(text: string): void {
    this.#room(text.length);
    for (let i = 0; i < text.length; i++) this.#buf[this.#len++] = text.charCodeAt(i);
  }

  #raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}

/** Thrown by {@link RespReader.next} on bytes that are not RESP2: the connection can't be trusted after. */
export class RespProtocolError extends Error {}

const INCOMPLETE = Symbol("incomplete");

/** Turns received bytes into replies, in order. */
export class RespReader {
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #at = 0;

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const used = this.#end - this.#start;
      if (used + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array((used + chunk.length) * 2);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next whole reply, or undefined until more bytes arrive. */
  next(): RespValue | undefined {
    if (this.#start === this.#end) return undefined;
    this.#at = this.#start;
    const value = this.#value();
    if (value === INCOMPLETE) return undefined;
    this.#start = this.#at;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return value;
  }

  /** Forgets buffered bytes (a new connection). */
  clear(): void {
    this.#start = this.#end = this.#at = 0;
  }

  #value(): RespValue | typeof INCOMPLETE {
    if (this.#at >= this.#end) return INCOMPLETE;
    const type = this.#buf[this.#at++];
    const start = this.#at;
    const cr = this.#lineEnd();
    if (cr < 0) return INCOMPLETE;
    switch (type) {
      case 43: // '+'
        return decoder.decode(this.#buf.subarray(start, cr));
      case 45: // '-'
        return new RespError(decoder.decode(this.#buf.subarray(start, cr)));
      case 58: // ':'
        return this.#integer(start, cr);
      case 36: { // '$'
        const n = this.#integer(start, cr);
        if (n < 0) return null;
        if (this.#end - this.#at < n + 2) return INCOMPLETE;
        const text = decoder.decode(this.#buf.subarray(this.#at, this.#at + n));
        this.#at += n + 2;
        return text;
      }
      case 42: { // '*'
        const n = this.#integer(start, cr);
        if (n < 0) return null;
        const out: RespValue[] = [];
        for (let i = 0; i < n; i++) {
          const item = this.#value();
          if (item === INCOMPLETE) return INCOMPLETE;
          out.push(item);
        }
        return out;
      }
      default:
        throw new RespProtocolError(`unexpected RESP type byte ${type}`);
    }
  }

  /** The index of the CR that ends the line at #at, moving #at past its LF; -1 when not yet here. */
  #lineEnd(): number {
    const buf = this.#buf;
    for (let i = this.#at; i + 1 < this.#end; i++) {
      if (buf[i] === CR && buf[i + 1] === LF) {
        this.#at = i + 2;
        return i;
      }
    }
    return -1;
  }

  /** A decimal integer from bytes, without making a string of them (replies are mostly integers). */
  #integer(from: number, to: number): number {
    const buf = this.#buf;
    let i = from;
    const negative = buf[i] === 45; // '-'
    if (negative) i++;
    if (i === to) throw new RespProtocolError("empty RESP integer");
    let n = 0;
    for (; i < to; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) {
        throw new RespProtocolError(
          `"${decoder.decode(buf.subarray(from, to))}" is not a RESP integer`,
        );
      }
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }
}
