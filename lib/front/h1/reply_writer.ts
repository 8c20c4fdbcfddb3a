/**
 * Writing a {@link ProxyReply} to an HTTP/1.1 client: the head with framing
 * chosen here (`response_head.ts`), then the body. A body in memory goes out
 * with its head in one write. A stream of known length is copied as it is;
 * one of unknown length is re-framed as chunked for HTTP/1.1 clients, or
 * sent until the connection closes for HTTP/1.0 ones (RFC 9112 §6.3).
 *
 * @module
 */

import { giveBackBodyBuffer } from "../../http1/body_buffers.ts";
import { ChunkFramer, LAST_CHUNK } from "../../http1/chunk_framer.ts";
import type { ProxyReply } from "../../core/message.ts";
import { bodiless, declaredLength, type ReplyFraming, responseHead } from "./response_head.ts";
import { type ByteSink, writeHead } from "../../http1/head_writes.ts";

/** Where reply bytes go. */
export type ReplySink = ByteSink;

/** How a reply went out. */
export interface Sent {
  /** Body bytes written. */
  readonly bytes: number;
  /**
   * Whether the whole reply went out framed as announced and its framing
   * lets the connection carry another request (not so for a body that runs
   * to the connection's end).
   */
  readonly reusable: boolean;
}

const FAILED: Sent = { bytes: 0, reusable: false };

/**
 * Writes `reply` for a request with `method` from an HTTP/1.`minor` client.
 * `close` adds `Connection: close`. Never rejects: a failed write or body
 * is reported as an incomplete {@link Sent}, and a stream is cancelled.
 */
export async function writeReply(
  sink: ReplySink,
  method: string,
  minor: 0 | 1,
  reply: ProxyReply,
  close: boolean,
): Promise<Sent> {
  let body = reply.body;
  const none = bodiless(method, reply.status);
  if (none && body instanceof ReadableStream) {
    body.cancel().catch(() => {});
    body = null;
  }
  if (body === null || body instanceof Uint8Array) {
    const length = body?.length ?? 0;
    const framing: ReplyFraming = none ? "none" : "length";
    // HEAD and 304 announce the length a GET would have had.
    const announced = none ? declaredLength(reply.headers) : length;
    const head = responseHead(
      reply.status,
      reply.headers,
      framing,
      announced,
      connection(minor, close),
    );
    try {
      await writeHead(sink, head, none || !body ? undefined : body);
      return { bytes: none ? 0 : length, reusable: true };
    } catch {
      return FAILED;
    }
  }
  const length = declaredLength(reply.headers);
  const framing: ReplyFraming = length !== undefined ? "length" : minor === 1 ? "chunked" : "close";
  const head = responseHead(
    reply.status,
    reply.headers,
    framing,
    length,
    connection(minor, close || framing === "close"),
  );
  return await writeStream(sink, head, body, framing, length);
}

/** The `Connection` value for a reply: `close`, `keep-alive` for HTTP/1.0, or none. */
function connection(minor: 0 | 1, close: boolean): "close" | "keep-alive" | undefined {
  return close ? "close" : minor === 0 ? "keep-alive" : undefined;
}

async function writeStream(
  sink: ReplySink,
  head: string,
  body: ReadableStream<Uint8Array>,
  framing: ReplyFraming,
  length: number | undefined,
): Promise<Sent> {
  const reader = body.getReader();
  let bytes = 0;
  try {
    await writeHead(sink, head);
    const framer = framing === "chunked" ? new ChunkFramer() : undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      bytes += value.length;
      // A backend can't make the client read past what was announced.
      if (length !== undefined && bytes > length) {
        throw new RangeError("body longer than announced");
      }
      await sink.write(framer ? framer.frame(value) : value);
      // Written (or copied into the frame): the chunk's buffer can serve the next read.
      giveBackBodyBuffer(value);
    }
    if (framer) await sink.write(LAST_CHUNK);
    const whole = framing === "chunked" || bytes === length;
    return { bytes, reusable: whole };
  } catch {
    reader.cancel().catch(() => {});
    return { bytes, reusable: false };
  } finally {
    reader.releaseLock();
  }
}
