/**
 * Replies the h1 front makes or drops on its own, without the core: a
 * refusal of a request it can't serve, the interim `100 Continue`, and
 * discarding a core's reply that will never be sent (the client left, or its
 * own body broke the protocol), which must still release what the reply
 * holds: a body stream, or a backend socket handed over for an upgrade.
 *
 * @module
 */

import type { ProxyReply } from "../../core/message.ts";

/** `100 Continue` (RFC 9110 §15.2.1), sent before the body of an `Expect: 100-continue` request is read. */
export const CONTINUE: Uint8Array = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** A plain-text refusal with `status`, saying `message`. */
export function refusal(status: number, message: string): ProxyReply {
  return {
    status,
    headers: [["content-type", "text/plain; charset=utf-8"]],
    body: new TextEncoder().encode(`${message}\n`),
  };
}

/** Releases a reply that won't be sent: cancels its stream, closes an upgraded backend socket. */
export function discard(reply: ProxyReply): void {
  if (reply.body instanceof ReadableStream) reply.body.cancel().catch(() => {});
  reply.upgrade?.conn.close();
}
