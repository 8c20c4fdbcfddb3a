/**
 * Request bodies on the h1 front (RFC 9112 §6): a body that arrived with
 * its head is handed over as bytes; any other is a stream read off the
 * client's socket only as the core pulls it (backpressure), decoded from
 * chunked framing when it is chunked. `Expect: 100-continue` is answered
 * when the body is first pulled (RFC 9110 §10.1.1), so a client is told to
 * send only once a backend is ready for it.
 *
 * @module
 */

import { concat } from "../../http1/bytes.ts";
import { ChunkedDecoder } from "../../http1/chunked.ts";
import { type Connection, READ_BUFFER } from "../../http1/connection.ts";
import { BadRequestError } from "../../proxy/errors.ts";
import type { Body } from "../../core/message.ts";
import { ClientAbortError } from "../../core/transport.ts";
import type { RequestFraming } from "./request_head.ts";

/** What reading a body needs from its connection. */
export interface BodySource {
  readonly c: Connection;
  /** Called before each socket read of the body (arms the body timeout) and after it (disarms). */
  reading(active: boolean): void;
  /** A read of the socket already pending (see ClientConnection); await it before reading. */
  takePendingRead(): Promise<boolean> | undefined;
  /** Sends `100 Continue`; called at most once, before the first read. */
  sendContinue(): Promise<void>;
  /** The body failed the protocol: the client gets 400 and the connection closes. */
  malformed(err: BadRequestError): void;
}

/** Where a body stands; the connection can carry another request only once it is `done`. */
export class BodyState {
  done = false;
}

const CONTINUE_NOT_NEEDED = -1;

/**
 * The body for `framing`, with `state.done` set once it has been read whole.
 * `expectContinue` is honoured only while the body's bytes are not already
 * here.
 */
export function requestBody(
  src: BodySource,
  framing: RequestFraming,
  expectContinue: boolean,
  state: BodyState,
): Body {
  const c = src.c;
  if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) {
    state.done = true;
    return null;
  }
  if (framing.kind === "length" && c.buffered >= framing.length) {
    // The common small POST: all of it came with the head.
    const bytes = c.buf.slice(c.start, c.start + framing.length);
    c.start += framing.length;
    state.done = true;
    return bytes;
  }
  let continuing = expectContinue && c.buffered === 0 ? 0 : CONTINUE_NOT_NEEDED;
  const next = framing.kind === "length"
    ? lengthReader(src, framing.length, state)
    : chunkedReader(src, state);
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        if (continuing === 0) {
          continuing = 1;
          await src.sendContinue();
        }
        const chunk = await next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      } catch (err) {
        if (err instanceof BadRequestError) src.malformed(err);
        controller.error(err);
      }
    },
  }, { highWaterMark: 0 });
}

/** Fills the connection's buffer once, under the body timeout. False at end of stream. */
async function fill(src: BodySource): Promise<boolean> {
  src.reading(true);
  try {
    const pending = src.takePendingRead();
    if (pending) return await pending;
    // Bodies are read in large reads, not in head-sized ones.
    src.c.reserve(READ_BUFFER);
    return await src.c.fill();
  } finally {
    src.reading(false);
  }
}

/** Reads up to `max` body bytes (buffered ones first), under the body timeout. Null at end. */
async function readChunk(src: BodySource, max: number): Promise<Uint8Array | null> {
  if (src.c.buffered > 0) return await src.c.readChunk(max);
  src.reading(true);
  try {
    const pending = src.takePendingRead();
    if (pending && !(await pending)) return null;
    return await src.c.readChunk(max);
  } finally {
    src.reading(false);
  }
}

function lengthReader(src: BodySource, length: number, state: BodyState) {
  let remaining = length;
  return async (): Promise<Uint8Array | null> => {
    if (remaining === 0) return null;
    const chunk = await readChunk(src, Math.min(remaining, READ_BUFFER));
    if (chunk === null) throw new ClientAbortError();
    remaining -= chunk.length;
    if (remaining === 0) state.done = true;
    return chunk;
  };
}

function chunkedReader(src: BodySource, state: BodyState) {
  const decoder = new ChunkedDecoder();
  return async (): Promise<Uint8Array | null> => {
    const c = src.c;
    for (;;) {
      if (decoder.done) {
        state.done = true;
        return null;
      }
      if (c.buffered === 0 && !(await fill(src))) throw new ClientAbortError();
      const parts: Uint8Array[] = [];
      let used: number;
      try {
        used = decoder.decode(c.buf, c.start, c.end, (d) => parts.push(d.slice()));
      } catch (err) {
        throw new BadRequestError(`malformed chunked body (${(err as Error).message})`);
      }
      c.start += used;
      if (decoder.done) state.done = true;
      if (parts.length === 1) return parts[0];
      if (parts.length > 1) return concat(parts);
    }
  };
}
