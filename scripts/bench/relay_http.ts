/**
 * The little HTTP/1.1 the benchmark's ceiling relays and its big-body load
 * client need: a buffered reader over a socket, the framing of a request or
 * response head (RFC 9112 §6.3), and the body bytes that follow it, by
 * Content-Length, chunked, or until close.
 *
 * Deliberately not a parser to trust: no field validation, no limits beyond
 * the buffer, no obs-fold. It talks only to the benchmark's own backends and
 * load generators on loopback, and exists to show what relaying costs on
 * Deno with no per-request work beyond framing (lib/http1/ is the real one).
 *
 * @module
 */

/** What {@link BufReader} reads from: a `Deno.Conn`, or anything with its `read`. */
export interface Source {
  read(p: Uint8Array): Promise<number | null>;
}

/** Default {@link BufReader} size; also the largest head it can hold. */
export const BUFFER_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;
const LATIN1 = new TextDecoder("latin1");
const ENCODER = new TextEncoder();

/** `bytes` as a string, one character per byte (heads are ASCII in practice). */
export function latin1(bytes: Uint8Array): string {
  return LATIN1.decode(bytes);
}

/** The ASCII bytes of `text`. */
export function ascii(text: string): Uint8Array {
  return ENCODER.encode(text);
}

/**
 * A read buffer over a socket. Views it hands out (`peek`, `chunk`) point
 * into the buffer and are valid only until the next read: write them out
 * before asking for more.
 */
export class BufReader {
  readonly #src: Source;
  readonly #buf: Uint8Array;
  #start = 0;
  #end = 0;

  constructor(src: Source, size = BUFFER_BYTES) {
    this.#src = src;
    this.#buf = new Uint8Array(size);
  }

  /** Bytes read from the socket and not consumed yet. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The next `n` buffered bytes (n ≤ {@link buffered}), not consumed. */
  peek(n: number): Uint8Array {
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  /** Drops `n` buffered bytes. */
  consume(n: number): void {
    this.#start += n;
  }

  /** Reads once more from the socket; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#start === 0) {
        throw new Error(`head or line longer than the ${this.#buf.length}-byte buffer`);
      }
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#src.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /**
   * Reads until the buffered bytes hold a whole head (through the first
   * CRLFCRLF) and returns its length; the head is `peek(length)`. Returns 0
   * when the stream ends cleanly before a head starts.
   */
  async readHead(): Promise<number> {
    let scanned = 0;
    for (;;) {
      const end = headEnd(this.#buf, this.#start + scanned, this.#end);
      if (end >= 0) return end - this.#start;
      scanned = Math.max(0, this.buffered - 3);
      if (!(await this.#fill())) {
        if (this.buffered === 0) return 0;
        throw new Error("stream ended inside a head");
      }
    }
  }

  /** Reads a line ending in LF (a chunk size or trailer) and returns it without CRLF. */
  async readLine(): Promise<string> {
    let scanned = 0;
    for (;;) {
      const lf = this.#buf.subarray(this.#start + scanned, this.#end).indexOf(LF);
      if (lf >= 0) {
        const end = this.#start + scanned + lf;
        const cut = end > this.#start && this.#buf[end - 1] === CR ? end - 1 : end;
        const line = latin1(this.#buf.subarray(this.#start, cut));
        this.#start = end + 1;
        return line;
      }
      scanned = this.buffered;
      if (!(await this.#fill())) throw new Error("stream ended inside a chunk line");
    }
  }

  /** The next up to `max` bytes as a view, reading if none are buffered; null at end of stream. */
  async chunk(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !(await this.#fill())) return null;
    const n = Math.min(max, this.buffered);
    const view = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return view;
  }
}

/** Index just past the first CRLFCRLF in `buf[from, to)`, or -1. */
export function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from + 3; i < to; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

/** How the body after a head ends (RFC 9112 §6.3). */
export type Framing =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "close" };

/** What the relays need from a head. */
export interface HeadInfo {
  /** The request line or status line. */
  readonly startLine: string;
  /** The status code of a response; 0 for a request. */
  readonly status: number;
  readonly framing: Framing;
  /** The sender will close after this message (`Connection: close`, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
}

/** Options for {@link parseHead}. */
export interface ParseHeadOptions {
  /** The response answers a HEAD request, so it has no body whatever it says. */
  readonly toHead?: boolean;
}

const NO_BODY: Framing = { kind: "length", length: 0 };

/**
 * Reads the start line and the framing fields of a head (`text` may include
 * the final CRLFCRLF). Throws on a Content-Length that is not a number, or
 * two that disagree (RFC 9112 §6.3 item 5).
 */
export function parseHead(
  text: string,
  role: "request" | "response",
  o: ParseHeadOptions = {},
): HeadInfo {
  const lines = text.split("\r\n");
  const startLine = lines[0];
  let length: number | undefined;
  let chunked = false;
  let connection = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    // Only three names matter; their lengths rule out most lines cheaply.
    if (colon !== 14 && colon !== 17 && colon !== 10) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) {
        throw new Error(`bad content-length "${value}"`);
      }
      length = Number(value);
    } else if (name === "transfer-encoding") {
      chunked = /(^|,)\s*chunked\s*$/i.test(value);
    } else if (name === "connection") {
      connection += `,${value.toLowerCase()}`;
    }
  }
  const http10 = role === "request"
    ? startLine.endsWith("HTTP/1.0")
    : startLine.startsWith("HTTP/1.0");
  const close = /(^|,)\s*close\s*(,|$)/.test(connection) ||
    (http10 && !/(^|,)\s*keep-alive\s*(,|$)/.test(connection));
  const status = role === "response" ? Number(startLine.slice(9, 12)) : 0;
  if (role === "response" && !(status >= 100 && status <= 999)) {
    throw new Error(`bad status line "${startLine}"`);
  }
  const bodiless = role === "response" &&
    (o.toHead || status < 200 || status === 204 || status === 304);
  let framing: Framing;
  if (bodiless) framing = NO_BODY;
  else if (chunked) framing = { kind: "chunked" };
  else if (length !== undefined) framing = { kind: "length", length };
  // A request without either has no body; a response reads until close.
  else framing = role === "request" ? NO_BODY : { kind: "close" };
  return { startLine, status, framing, close };
}

/** Every field line of a head as `[name, value]`, in order (start line and blank lines skipped). */
export function fieldPairs(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const line of text.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) pairs.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

/** The size of a chunk from its size line (`1a3f`, `0`, `400;name=value`). */
export function parseChunkSize(line: string): number {
  const semi = line.indexOf(";");
  const hex = (semi >= 0 ? line.slice(0, semi) : line).trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new Error(`bad chunk size line "${line}"`);
  return parseInt(hex, 16);
}

const CRLF = ascii("\r\n");

/**
 * Yields the body that follows a head, per `framing`. With `raw`, chunked
 * framing (size lines, CRLFs, trailers) is yielded too, so the bytes can be
 * relayed as they came; without it, only the data. Chunks are views into
 * `reader` (see {@link BufReader}). Throws if the stream ends early.
 */
export async function* bodyChunks(
  reader: BufReader,
  framing: Framing,
  raw: boolean,
): AsyncGenerator<Uint8Array> {
  if (framing.kind === "length") {
    yield* exactly(reader, framing.length);
  } else if (framing.kind === "close") {
    for (let c = await reader.chunk(Infinity); c; c = await reader.chunk(Infinity)) yield c;
  } else {
    for (;;) {
      const line = await reader.readLine();
      const size = parseChunkSize(line);
      if (raw) yield ascii(`${line}\r\n`);
      if (size === 0) break;
      yield* exactly(reader, size);
      if ((await reader.readLine()) !== "") throw new Error("chunk data not followed by CRLF");
      if (raw) yield CRLF;
    }
    // Trailer section, then the blank line that ends the message.
    for (let line = await reader.readLine();; line = await reader.readLine()) {
      if (raw) yield ascii(`${line}\r\n`);
      if (line === "") break;
    }
  }
}

async function* exactly(reader: BufReader, n: number): AsyncGenerator<Uint8Array> {
  for (let left = n; left > 0;) {
    const c = await reader.chunk(left);
    if (!c) throw new Error(`stream ended ${left} bytes before the end of the body`);
    left -= c.byteLength;
    yield c;
  }
}

/** Writes all of `bytes` (a `write` may take only part). */
export async function writeAll(
  conn: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let off = 0; off < bytes.byteLength;) off += await conn.write(bytes.subarray(off));
}
