/**
 * One request/response exchange on an upstream connection: writes the head
 * and body, reads past interim responses to the final head, and hands the
 * body over as bytes or as a stream read with backpressure. It decides
 * whether the connection can be pooled afterwards, and recognises a pooled
 * connection that turned out to be dead so the request can go out again.
 *
 * @module
 */

import {
  ClientAbortError,
  type HeaderPairs,
  headerValue,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../../core/transport.ts";
import { bodyReader } from "./body.ts";
import { concat } from "../../http1/bytes.ts";
import { giveBackBodyBuffer } from "../../http1/body_buffers.ts";
import type { Connection } from "../../http1/connection.ts";
import type { Deadlines, Expiring } from "../../http1/deadlines.ts";
import {
  findHeadEnd,
  type Framing,
  keepAlive,
  parseResponseHead,
  responseFraming,
  type ResponseHead,
} from "./head.ts";
import { latin1, ParseError } from "../../http1/syntax.ts";
import { encodeRequestHead, type RequestFraming } from "./request.ts";
import { ChunkFramer, LAST_CHUNK } from "../../http1/chunk_framer.ts";

/** Bodies up to this size are read whole and handed over as bytes. */
const SMALL_BODY = 64 * 1024;
/** How long to wait for `100 Continue` before sending the body anyway (RFC 9110 §10.1.1). */
const CONTINUE_WAIT_MS = 1000;
/** Methods that may be re-sent after a stale pooled connection (RFC 9110 §9.2.2). */
const REPLAYABLE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** The connection was found closed before anything of the response arrived. */
export class StaleConnection extends Error {}

/** One request/response on a connection. */
export class Exchange implements Expiring {
  #timing = false;
  #failure: UpstreamError | ClientAbortError | undefined;
  #responseBytes = false;
  #finalHead = false;
  #writer: Promise<boolean> | undefined;
  /** Set once the request body has been written whole (or there was none to stream). */
  #wroteAll = false;
  #continue: (() => void) | undefined;
  #finished = false;

  constructor(
    readonly c: Connection,
    readonly req: UpstreamRequest,
    readonly deadlines: Deadlines,
    readonly reused: boolean,
    /** Called once: true to pool the connection, false to close it. */
    readonly release: (reusable: boolean) => void,
  ) {}

  async run(): Promise<UpstreamResponse> {
    const { c, req } = this;
    req.signal.addEventListener("abort", this.#onAbort);
    try {
      if (req.signal.aborted) throw new ClientAbortError();
      const bytes = req.body instanceof Uint8Array ? req.body : undefined;
      let headers = req.headers;
      // Bytes in hand always go out with their length, never unframed.
      if (bytes && !hasField(headers, "content-length")) {
        headers = [...headers, ["content-length", String(bytes.length)]];
      }
      const framing: RequestFraming = req.body === null
        ? "none"
        : hasField(headers, "content-length")
        ? "length"
        : "chunked";
      let head = encodeRequestHead(req.method, req.path, headers, framing, c.scratch);
      if (bytes) head = concat([head, bytes]); // one write for head and buffered body
      c.uses++;
      try {
        await c.write(head);
      } catch (err) {
        // Nothing was accepted: the request never reached the backend.
        if (this.reused && !req.signal.aborted) throw new StaleConnection();
        throw this.#fail(err);
      }
      if (req.body instanceof ReadableStream) {
        const expect = headerValue(req.headers, "expect")?.toLowerCase() === "100-continue";
        this.#writer = this.#writeBody(req.body, framing, expect);
      } else {
        this.#armResponseTimer();
      }
      const { head: response, framing: bodyFraming } = await this.#readHead();
      return await this.#respond(response, bodyFraming);
    } catch (err) {
      this.#finish(false);
      if (err instanceof StaleConnection) throw err;
      throw this.#fail(err);
    }
  }

  #onAbort = (): void => {
    this.#failure ??= new ClientAbortError();
    this.c.close();
  };

  #armResponseTimer(): void {
    // A backend may answer while still reading the body (an echo, an early
    // 413): once the head is here there is nothing left to time out.
    if (this.#finished || this.#timing || this.#finalHead) return;
    this.#timing = true;
    this.deadlines.arm(this);
  }

  /** The response headers took longer than `--response-timeout`. */
  expire(): void {
    this.#failure ??= new UpstreamError("response_timeout", "no response headers in time");
    this.c.close();
  }

  #disarm(): void {
    if (!this.#timing) return;
    this.#timing = false;
    this.deadlines.disarm(this);
  }

  /** Maps any error to what the caller should see, preferring the first cause. */
  #fail(err: unknown): UpstreamError | ClientAbortError {
    if (this.#failure) return this.#failure;
    if (err instanceof UpstreamError || err instanceof ClientAbortError) return err;
    if (err instanceof ParseError) return new UpstreamError("protocol", err.message);
    const message = err instanceof Error ? err.message : String(err);
    return new UpstreamError("reset", message);
  }

  /** Ends the exchange once: clears timers and listeners, pools or closes. */
  #finish(reusable: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    // A writer still waiting for 100 Continue must not sit on its timer.
    this.#continue?.();
    this.#disarm();
    this.req.signal.removeEventListener("abort", this.#onAbort);
    this.release(reusable && !this.c.closed);
  }

  /** Streams the request body; resolves true when all of it was written. */
  async #writeBody(
    body: ReadableStream<Uint8Array>,
    framing: RequestFraming,
    expect: boolean,
  ): Promise<boolean> {
    if (expect) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#continue = resolve;
        timer = setTimeout(resolve, CONTINUE_WAIT_MS);
      });
      clearTimeout(timer);
      if (this.#finished || this.#finalHead) {
        // A final response came instead of 100: the body is not wanted.
        await body.cancel().catch(() => {});
        return false;
      }
    }
    const reader = body.getReader();
    try {
      const framer = framing === "chunked" ? new ChunkFramer() : undefined;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.length === 0) continue;
        await this.c.write(framer ? framer.frame(value) : value);
        giveBackBodyBuffer(value); // sent: its buffer can take the next read
      }
      if (framing === "chunked") await this.c.write(LAST_CHUNK);
      this.#wroteAll = true;
      this.#armResponseTimer();
      return true;
    } catch {
      // The client's upload broke off or the backend closed: the connection
      // can't carry a complete request any more.
      reader.cancel().catch(() => {});
      this.c.close();
      return false;
    } finally {
      reader.releaseLock();
    }
  }

  /** Reads response heads, skipping interim 1xx ones, until the final head. */
  async #readHead(): Promise<{ head: ResponseHead; framing: Framing }> {
    const c = this.c;
    for (;;) {
      let end = findHeadEnd(c.buf, c.start, c.end);
      while (end === -1) {
        let more: boolean;
        try {
          more = await c.fill();
        } catch (err) {
          if (err instanceof RangeError) throw new ParseError("response head too large");
          throw this.#stale(err);
        }
        if (!more) throw this.#stale(new Error("backend closed the connection"));
        this.#responseBytes = true;
        end = findHeadEnd(c.buf, c.start, c.end);
      }
      this.#responseBytes = true;
      const head = parseResponseHead(latin1(c.buf, c.start, end));
      c.start = end;
      if (head.status === 101) {
        // RFC 9110 §15.2.2: only an answer to a request that offered Upgrade.
        if (!hasField(this.req.headers, "upgrade")) {
          throw new ParseError("101 Switching Protocols without an upgrade request");
        }
        this.#finalHead = true;
        return { head, framing: { kind: "none" } };
      }
      if (head.status >= 100 && head.status < 200) {
        this.#continue?.(); // 100 Continue: send the body now
        continue;
      }
      this.#finalHead = true;
      this.#continue?.();
      return { head, framing: responseFraming(head, this.req.method) };
    }
  }

  /**
   * A connection that ended before any response byte: on a pooled connection
   * whose request can be replayed, the backend closed it while idle, so the
   * request goes out again on a fresh one.
   */
  #stale(err: unknown): unknown {
    const replayable = REPLAYABLE.has(this.req.method) &&
      !(this.req.body instanceof ReadableStream);
    if (this.reused && !this.#responseBytes && replayable && !this.#failure) {
      return new StaleConnection();
    }
    return err;
  }

  async #respond(head: ResponseHead, framing: Framing): Promise<UpstreamResponse> {
    this.#disarm();
    const headers = head.fields;
    const c = this.c;
    if (head.status === 101) {
      // The socket now carries another protocol: hand it over, never pool it.
      const buffered = c.buf.slice(c.start, c.end);
      c.start = c.end;
      this.#finished = true;
      this.req.signal.removeEventListener("abort", this.#onAbort);
      return { status: 101, headers, body: null, upgrade: { conn: c.detach(), buffered } };
    }
    const reusable = keepAlive(head, framing);
    if (framing.kind === "none") {
      this.#complete(reusable);
      return { status: head.status, headers, body: null };
    }
    if (framing.kind === "length" && framing.length <= SMALL_BODY) {
      while (c.buffered < framing.length) {
        if (!(await c.fill())) throw new UpstreamError("reset", "backend closed mid-body");
      }
      const body = c.buf.slice(c.start, c.start + framing.length);
      c.start += framing.length;
      this.#complete(reusable);
      return { status: head.status, headers, body };
    }
    return { status: head.status, headers, body: this.#bodyStream(framing, reusable) };
  }

  /**
   * After the response body: pool the connection if the request went out
   * whole too. A response that ended while the body was still being sent
   * (an early 401 or 413; RFC 9112 §9.3) ends the exchange: the connection
   * closes, which stops the upload, rather than waiting on a backend that
   * may never read the rest.
   */
  #complete(reusable: boolean): void {
    if (this.c.buffered > 0) reusable = false; // bytes nobody asked for
    const wrote = this.#writer === undefined || this.#wroteAll;
    if (!wrote) this.c.close();
    this.#finish(reusable && wrote);
  }

  #bodyStream(framing: Framing, reusable: boolean): ReadableStream<Uint8Array> {
    const next = bodyReader(this.c, framing);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await next();
          if (chunk === null) {
            controller.close();
            this.#complete(reusable);
          } else {
            controller.enqueue(chunk);
          }
        } catch (err) {
          this.#finish(false);
          controller.error(this.#fail(err));
        }
      },
      cancel: () => {
        // The client went away mid-body: the rest can't be read past safely.
        this.c.close();
        this.#finish(false);
      },
    }, { highWaterMark: 0 });
  }
}

function hasField(fields: HeaderPairs, name: string): boolean {
  return headerValue(fields, name) !== undefined;
}
