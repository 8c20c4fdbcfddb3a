/**
 * The neutral request and reply the proxy core works on. A front (our own
 * HTTP/1.1 server on `Deno.listen`, or `Deno.serve` for TLS and HTTP/2)
 * turns what it received into a {@link ProxyRequest} and sends the
 * {@link ProxyReply} back in its own way, so the same header rules, retries
 * and policies run behind every front, and the fast front never builds a
 * `Request`, `Response` or `Headers` object.
 *
 * @module
 */

import type { HeaderPairs, UpgradedConnection } from "./transport.ts";

/** A request body: bytes in hand, a stream read on demand, or none. */
export type Body = ReadableStream<Uint8Array> | Uint8Array | null;

/** A client request as a front received it. */
export interface ProxyRequest {
  /** The method token as the client sent it, e.g. `GET`. */
  readonly method: string;
  /** Origin-form target (path and query); an absolute-form target's authority is already gone. */
  readonly path: string;
  /**
   * The authority the client asked for: `Host`, or HTTP/2's `:authority`.
   * Null or empty when it sent none (the core answers 400, RFC 9112 §3.2).
   */
  readonly host: string | null;
  /** Fields as received, lower-case names, hop-by-hop ones included (the core strips them). */
  readonly headers: HeaderPairs;
  /** Null when there is none; bytes if it all came with the head; else a stream read on demand. */
  readonly body: Body;
  /**
   * The body's declared length (`Content-Length`), or undefined when it is
   * unknown (chunked) or there is no body. Bodies that fit the retry buffer
   * are read whole, so a retry can send them again.
   */
  readonly contentLength: number | undefined;
  /** Aborts when the client has gone away. */
  readonly signal: AbortSignal;
  /** The client's address (after PROXY protocol, when used), without brackets. */
  readonly clientIp: string;
  /**
   * The protocol as a request line names it (`HTTP/1.1`, `HTTP/1.0`), for
   * the access log. Absent when the front can't tell (`Deno.serve`): the
   * log then says HTTP/2.0 for a request without `Host` (RFC 9113 §8.3.1:
   * HTTP/2 carries `:authority` instead) and HTTP/1.1 for one with it.
   */
  readonly protocol?: string;
  /**
   * The `Upgrade` value when the request asks to switch protocols on this
   * connection (HTTP/1.1 `Connection: upgrade`); a front that can splice the
   * two sockets afterwards sets it.
   */
  readonly upgrade?: string;
}

/** The answer for a client, headers already cleaned of hop-by-hop fields. */
export interface ProxyReply {
  /** The status code to send: 200-599, or 101 for a tunnel (see `upgrade`). */
  readonly status: number;
  /** The fields to send, `[lower-case name, value]` in order; the front frames the body itself. */
  readonly headers: HeaderPairs;
  /** Null for HEAD, 1xx, 204 and 304, and for a 101 tunnel. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /**
   * Set with status 101: the backend's socket, now the front's to splice
   * with the client's and to close.
   */
  readonly upgrade?: UpgradedConnection;
  /** A backend or the core wants the client's connection closed after this reply. */
  readonly close?: boolean;
}
