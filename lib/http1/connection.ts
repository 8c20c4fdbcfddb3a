/**
 * One TCP (or TLS) connection with its read buffer: an upstream connection of
 * the h1 transport, or a client connection of the h1 front. While idle in the pool a
 * read stays pending on it, so a backend closing the connection is noticed
 * at once and the connection dropped, instead of being found dead when the
 * next request is written to it. When the connection is reused that pending
 * read simply becomes the first read of the response.
 *
 * @module
 */

/** A TCP or TLS socket. */
export type Socket = Deno.TcpConn | Deno.TlsConn;

import { BODY_BUFFER, giveBackBodyBuffer, takeBodyBuffer } from "./body_buffers.ts";

/** Largest single read of a body. */
export const READ_BUFFER = BODY_BUFFER;
/**
 * Initial size of each connection's read buffer, client or upstream. A
 * pending read holds it for as long as the connection waits, so it is
 * most of what an idle connection costs. Most request heads (wrk's 40
 * bytes, a browser's without large cookies) and response heads with a
 * small body (NGINX's 200-byte head and a 100-byte body) fit in 1 KiB; the
 * buffer doubles, up to {@link MAX_BUFFER}, only when what must be buffered
 * doesn't fit, and a streamed body is read into body buffers of its own.
 * What 4 KiB cost at 1,000 connections is in docs/benchmarks.md ("Memory
 * with workers").
 */
const INITIAL_BUFFER = 1024;
/** The read buffer never grows past this: a larger head is refused. */
const MAX_BUFFER = 128 * 1024;

/** An upstream connection. */
export class Connection {
  buf: Uint8Array<ArrayBuffer>;
  /** Unconsumed bytes are `buf[start, end)`. */
  start = 0;
  end = 0;
  /** Requests sent on this connection so far. */
  uses = 0;
  /** When it last went idle (ms, the pool's clock). */
  idleSince = 0;
  /** Whether it sits in the pool now. */
  idle = false;
  #closed = false;
  #pending: Promise<number | null> | null = null;

  #onClose: (() => void) | undefined;

  /** `onClose` runs once when the connection closes or is handed away. */
  constructor(readonly conn: Socket, onClose?: () => void) {
    this.#onClose = onClose;
    this.buf = new Uint8Array(INITIAL_BUFFER);
  }

  /** Gives the socket away (after a protocol upgrade): accounted as closed, left open. */
  detach(): Socket {
    this.#closed = true;
    this.#runOnClose();
    return this.conn;
  }

  #runOnClose(): void {
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Buffered, unconsumed bytes. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Reads more bytes into the buffer. Returns false at end of stream.
   * Compacts first when the buffer's tail is full.
   */
  async fill(): Promise<boolean> {
    if (this.start === this.end) {
      if (this.#pending === null) this.start = this.end = 0;
    } else if (this.end === this.buf.length && this.#pending === null) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      if (this.buf.length >= MAX_BUFFER) throw new RangeError("read buffer full");
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
    }
    const pending = this.#pending;
    this.#pending = null;
    const n = await (pending ?? this.conn.read(this.buf.subarray(this.end)));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /**
   * Grows an empty read buffer to at least `size` bytes, for reading a
   * body in large reads on a connection whose buffer was sized for heads.
   */
  reserve(size: number): void {
    if (this.buf.length >= size || this.start !== this.end || this.#pending !== null) return;
    this.buf = new Uint8Array(size);
    this.start = this.end = 0;
  }

  /**
   * Returns buffered bytes (copied, as the buffer is reused) or, when none
   * are buffered, reads up to `max` bytes (at most {@link READ_BUFFER})
   * straight into a body buffer (`body_buffers.ts`) handed out as it is:
   * whoever writes it may give it back. Null at end of stream.
   */
  async readChunk(max: number): Promise<Uint8Array | null> {
    if (this.start < this.end || this.#pending !== null) {
      if (this.start === this.end && !(await this.fill())) return null;
      const n = Math.min(max, this.end - this.start, READ_BUFFER);
      const out = takeBodyBuffer().subarray(0, n);
      out.set(this.buf.subarray(this.start, this.start + n));
      this.start += n;
      return out;
    }
    const out = takeBodyBuffer();
    const n = await this.conn.read(max < READ_BUFFER ? out.subarray(0, max) : out);
    if (n === null) {
      giveBackBodyBuffer(out);
      return null;
    }
    return out.subarray(0, n);
  }

  /** Writes every byte. */
  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.conn.write(data.subarray(off));
  }

  /**
   * Starts the idle watch: a read that, if it completes while the connection
   * is still idle, means the backend closed it (or broke the protocol by
   * sending unasked-for bytes). `onIdleEvent` is then called once.
   */
  watch(onIdleEvent: () => void): void {
    this.start = this.end = 0;
    const pending = this.conn.read(this.buf);
    this.#pending = pending;
    const settle = () => {
      if (this.idle) onIdleEvent();
    };
    pending.then(settle, settle);
  }

  /** Closes the socket; pending reads and writes reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A pending read rejects when the socket closes; nobody else may await it.
    this.#pending?.catch(() => {});
    try {
      this.conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.#runOnClose();
  }
}
