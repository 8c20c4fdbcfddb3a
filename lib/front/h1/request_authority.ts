/**
 * Which authority an h1 request is for (RFC 9112 §3.2, §3.2.2): the one
 * the core routes on and forwards as Host. Pure but for reading the
 * socket's local address, so the precedence rules can be tested without a
 * connection.
 *
 * @module
 */

import type { Socket } from "../../http1/connection.ts";
import type { RequestHead } from "./request_head_types.ts";

/**
 * The authority the request is for: an absolute-form target's (RFC 9112
 * §3.2.2: it wins over Host), else Host; an HTTP/1.0 request may lack
 * both, and then it is the address the client connected to on `conn`.
 */
export function requestAuthority(head: RequestHead, conn: Socket): string | null {
  if (head.form === "absolute") {
    const start = head.target.indexOf("://") + 3;
    let end = start;
    while (end < head.target.length && head.target[end] !== "/" && head.target[end] !== "?") {
      end++;
    }
    return head.target.slice(start, end);
  }
  if (head.host !== null || head.minor === 1) return head.host;
  const local = conn.localAddr as Deno.NetAddr;
  return local.hostname.includes(":")
    ? `[${local.hostname}]:${local.port}`
    : `${local.hostname}:${local.port}`;
}
