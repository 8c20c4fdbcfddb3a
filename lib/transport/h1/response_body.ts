/**
 * Handing an upstream response over once its head is read, for an
 * `Exchange` (`exchange.ts`): a body of known small length is read whole and given
 * as bytes (so the front can send it in one write), a larger or chunked one
 * as a stream read off the socket only as the consumer pulls (backpressure),
 * and after a 101 the socket itself. Whether the connection is pooled after
 * the body is the exchange's decision (`complete`); this module tells it
 * when the body has ended and how.
 *
 * @module
 */

import {
  type ClientAbortError,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../../core/transport.ts";
import type { Connection } from "../../http1/connection.ts";
import { bodyReader } from "./body.ts";
import { type Framing, keepAlive, type ResponseHead } from "./head.ts";

/** Bodies up to this size are read whole and handed over as bytes. */
const SMALL_BODY = 64 * 1024;

/** What handing a response over needs from its exchange (an Exchange). */
export interface ResponseOwner {
  /** The upstream connection the response is read from. */
  readonly c: Connection;
  /** The request being answered (its abort signal is let go on a 101). */
  readonly req: UpstreamRequest;
  /** The head is here: the response timer stops. */
  disarm(): void;
  /** The socket leaves with a 101: the exchange ends, the connection neither pooled nor closed. */
  handOver(): void;
  /** The body was read whole: pool the connection if `reusable` and the request went out whole. */
  complete(reusable: boolean): void;
  /** Ends the exchange once; `reusable` false closes the connection. */
  finish(reusable: boolean): void;
  /** The error a reader of the body should see for `err`, preferring the first cause. */
  fail(err: unknown): UpstreamError | ClientAbortError;
}

/**
 * The response for `head`, whose body is delimited by `framing`: no body,
 * bytes, a stream, or the upgraded socket after a 101.
 */
export async function respond(
  x: ResponseOwner,
  head: ResponseHead,
  framing: Framing,
): Promise<UpstreamResponse> {
  x.disarm();
  const headers = head.fields;
  const c = x.c;
  if (head.status === 101) {
    // The socket now carries another protocol: hand it over, never pool it.
    const buffered = c.buf.slice(c.start, c.end);
    c.start = c.end;
    x.handOver();
    return { status: 101, headers, body: null, upgrade: { conn: c.detach(), buffered } };
  }
  const reusable = keepAlive(head, framing);
  if (framing.kind === "none") {
    x.complete(reusable);
    return { status: head.status, headers, body: null };
  }
  if (framing.kind === "length" && framing.length <= SMALL_BODY) {
    while (c.buffered < framing.length) {
      if (!(await c.fill())) throw new UpstreamError("reset", "backend closed mid-body");
    }
    const body = c.buf.slice(c.start, c.start + framing.length);
    c.start += framing.length;
    x.complete(reusable);
    return { status: head.status, headers, body };
  }
  return { status: head.status, headers, body: bodyStream(x, framing, reusable) };
}

/** The body as a stream pulled off the socket; its end or failure ends the exchange. */
function bodyStream(
  x: ResponseOwner,
  framing: Framing,
  reusable: boolean,
): ReadableStream<Uint8Array> {
  const next = bodyReader(x.c, framing);
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        const chunk = await next();
        if (chunk === null) {
          controller.close();
          x.complete(reusable);
        } else {
          controller.enqueue(chunk);
        }
      } catch (err) {
        x.finish(false);
        controller.error(x.fail(err));
      }
    },
    cancel: () => {
      // The client went away mid-body: the rest can't be read past safely.
      x.c.close();
      x.finish(false);
    },
  }, { highWaterMark: 0 });
}
