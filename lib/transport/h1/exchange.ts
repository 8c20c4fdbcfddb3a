/**
 * One request/response exchange on an upstream connection: writes the head
 * and body, reads past interim responses to the final head, and hands the
 * body over as bytes or as a stream read with backpressure. It decides
 * whether the connection can be pooled afterwards, and recognises a pooled
 * connection that turned out to be dead so the request can go out again.
 *
 * This module is the exchange's state and its order of events: the first
 * write, the response timer, reading past interim heads, and how it ends.
 * Streaming the request body is `request_writer.ts` and handing the
 * response over is `response_body.ts`; each names what it needs of the
 * exchange as an interface this class implements, so neither imports it.
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
import { encodeHead, sendHead } from "../../http1/head_writes.ts";
import type { Connection } from "../../http1/connection.ts";
import type { Deadlines, Expiring } from "../../http1/deadlines.ts";
import {
  findHeadEnd,
  type Framing,
  parseResponseHead,
  responseFraming,
  type ResponseHead,
} from "./head.ts";
import { latin1, ParseError } from "../../http1/syntax.ts";
import { type RequestFraming, requestHead } from "./request.ts";
import { type BodyWriter, writeBody } from "./request_writer.ts";
import { respond, type ResponseOwner } from "./response_body.ts";

/** Methods that may be re-sent after a stale pooled connection (RFC 9110 §9.2.2). */
const REPLAYABLE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** The connection was found closed before anything of the response arrived. */
export class StaleConnection extends Error {}

/** One request/response on a connection. */
export class Exchange implements Expiring, BodyWriter, ResponseOwner {
  #timing = false;
  #failure: UpstreamError | ClientAbortError | undefined;
  #responseBytes = false;
  #finalHead = false;
  #writer: Promise<boolean> | undefined;
  /** Set once the request body has been written whole (or there was none to stream). */
  #wroteAll = false;
  #continue: (() => void) | undefined;
  #finished = false;

  /** An exchange of `req` on `c`; `reused` when `c` came from the pool. */
  constructor(
    readonly c: Connection,
    readonly req: UpstreamRequest,
    readonly deadlines: Deadlines,
    readonly reused: boolean,
    /** Called once: true to pool the connection, false to close it. */
    readonly release: (reusable: boolean) => void,
  ) {}

  /** Sends the request and resolves with the response; rejects with UpstreamError, ClientAbortError or StaleConnection. */
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
      // Encoded before the write: a head that can't be (a hook's header
      // outside latin1) is this request's fault, not a stale connection's.
      const head = encodeHead(requestHead(req.method, req.path, headers, framing), bytes);
      c.uses++;
      try {
        // One write for the head and a buffered body.
        await sendHead(c, head);
      } catch (err) {
        // Nothing was accepted: the request never reached the backend.
        if (this.reused && !req.signal.aborted) throw new StaleConnection();
        throw this.fail(err);
      }
      if (req.body instanceof ReadableStream) {
        const expect = headerValue(req.headers, "expect")?.toLowerCase() === "100-continue";
        this.#writer = writeBody(this, req.body, framing, expect);
      } else {
        this.#armResponseTimer();
      }
      const { head: response, framing: bodyFraming } = await this.#readHead();
      return await respond(this, response, bodyFraming);
    } catch (err) {
      this.finish(false);
      if (err instanceof StaleConnection) throw err;
      throw this.fail(err);
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

  /** Stops the response timer: the head is here, or the exchange ended. */
  disarm(): void {
    if (!this.#timing) return;
    this.#timing = false;
    this.deadlines.disarm(this);
  }

  /** Maps any error to what the caller should see, preferring the first cause. */
  fail(err: unknown): UpstreamError | ClientAbortError {
    if (this.#failure) return this.#failure;
    if (err instanceof UpstreamError || err instanceof ClientAbortError) return err;
    if (err instanceof ParseError) return new UpstreamError("protocol", err.message);
    const message = err instanceof Error ? err.message : String(err);
    return new UpstreamError("reset", message);
  }

  /** Ends the exchange once: clears timers and listeners, pools or closes. */
  finish(reusable: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    // A writer still waiting for 100 Continue must not sit on its timer.
    this.#continue?.();
    this.disarm();
    this.req.signal.removeEventListener("abort", this.#onAbort);
    this.release(reusable && !this.c.closed);
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

  /**
   * After the response body: pool the connection if the request went out
   * whole too. A response that ended while the body was still being sent
   * (an early 401 or 413; RFC 9112 §9.3) ends the exchange: the connection
   * closes, which stops the upload, rather than waiting on a backend that
   * may never read the rest.
   */
  complete(reusable: boolean): void {
    if (this.c.buffered > 0) reusable = false; // bytes nobody asked for
    const wrote = this.#writer === undefined || this.#wroteAll;
    if (!wrote) this.c.close();
    this.finish(reusable && wrote);
  }

  // --- BodyWriter, for request_writer.ts -----------------------------------

  /** The body writer waits for `100 Continue`; `send` releases it. */
  awaitingContinue(send: () => void): void {
    this.#continue = send;
  }

  /** Whether the exchange ended or a final response came. */
  get bodyUnwanted(): boolean {
    return this.#finished || this.#finalHead;
  }

  /** The request body went out whole: the response timer may start. */
  wroteBody(): void {
    this.#wroteAll = true;
    this.#armResponseTimer();
  }

  // --- ResponseOwner, for response_body.ts ---------------------------------

  /** The socket leaves with a 101: ended, neither pooled nor closed. */
  handOver(): void {
    this.#finished = true;
    this.req.signal.removeEventListener("abort", this.#onAbort);
  }
}

function hasField(fields: HeaderPairs, name: string): boolean {
  return headerValue(fields, name) !== undefined;
}
