/**
 * Replies policies answer with themselves.
 *
 * @module
 */

import type { ProxyReply } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";

const encoder = new TextEncoder();

/** A plain-text reply with `status`, `text` and extra `headers`. */
export function textReply(status: number, text: string, headers: HeaderPairs = []): ProxyReply {
  const body = encoder.encode(text);
  return {
    status,
    headers: [["content-type", "text/plain; charset=utf-8"], ...headers],
    body,
  };
}
