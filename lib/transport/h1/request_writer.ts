/**
 * Streaming a request body to the backend for an `Exchange` (`exchange.ts`): it
 * waits for `100 Continue` when the client asked for it (RFC 9110
 * §10.1.1), and frames the body as chunked when its length is unknown
 * (RFC 9112 §7.1). It runs beside the response reader, since a backend
 * may answer before it has read the whole body; the head and a body in
 * hand go out in the exchange's first write, not here.
 *
 * @module
 */

import { giveBackBodyBuffer } from "../../http1/body_buffers.ts";
import { ChunkFramer, LAST_CHUNK } from "../../http1/chunk_framer.ts";
import type { Connection } from "../../http1/connection.ts";
import type { RequestFraming } from "./request.ts";

/** How long to wait for `100 Continue` before sending the body anyway (RFC 9110 §10.1.1). */
const CONTINUE_WAIT_MS = 1000;

/** What writing the body needs from its exchange (an Exchange). */
export interface BodyWriter {
  /** The upstream connection the body goes out on. */
  readonly c: Connection;
  /** The body waits for `100 Continue`; `send` releases it early (a 1xx came, or the exchange ended). */
  awaitingContinue(send: () => void): void;
  /** The exchange ended or a final response came: a body still waiting is not wanted. */
  readonly bodyUnwanted: boolean;
  /** The body went out whole: the response timer may start. */
  wroteBody(): void;
}

/**
 * Streams `body` on `w.c` with `framing` ("length" or "chunked"), after
 * waiting for `100 Continue` when `expect`. Resolves true when all of it
 * was written; false when it was not wanted or broke off, and then the
 * connection is closed (it can't carry a complete request any more).
 */
export async function writeBody(
  w: BodyWriter,
  body: ReadableStream<Uint8Array>,
  framing: RequestFraming,
  expect: boolean,
): Promise<boolean> {
  if (expect) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      w.awaitingContinue(resolve);
      timer = setTimeout(resolve, CONTINUE_WAIT_MS);
    });
    clearTimeout(timer);
    if (w.bodyUnwanted) {
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
      await w.c.write(framer ? framer.frame(value) : value);
      giveBackBodyBuffer(value); // sent: its buffer can take the next read
    }
    if (framing === "chunked") await w.c.write(LAST_CHUNK);
    w.wroteBody();
    return true;
  } catch {
    // The client's upload broke off or the backend closed: the connection
    // can't carry a complete request any more.
    reader.cancel().catch(() => {});
    w.c.close();
    return false;
  } finally {
    reader.releaseLock();
  }
}
