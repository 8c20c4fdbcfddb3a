/**
 * The upstream side both ceiling relays share: kept-alive `Deno.connect`
 * connections to the backends, picked round-robin, and one exchange on
 * one of them (a fixed request head, the request body if any, the response
 * head back).
 *
 * @module
 */

import { ascii, BufReader, type HeadInfo, latin1, parseHead, writeAll } from "./relay_http.ts";

/** A connection to one backend, with its read buffer. */
export interface Upstream {
  readonly conn: Deno.TcpConn;
  readonly reader: BufReader;
  /** Index of its backend. */
  readonly backend: number;
  /** When it was last put back idle (`Date.now()`). */
  idleSince: number;
}

/**
 * Idle connections older than this are closed instead of reused: NGINX
 * closes a kept-alive connection after `keepalive_timeout` (120 s in the
 * benchmark's configs), and a relay with no retries must never write to one
 * the backend is closing. Targets can sit idle that long between cases.
 */
const MAX_IDLE_MS = 50_000;

/** `127.0.0.1:8001` or `http://127.0.0.1:8001` as a connect address. */
export function parseAddr(text: string): { hostname: string; port: number } {
  const m = /^(?:http:\/\/)?([^:/]+):(\d+)\/?$/.exec(text.trim());
  if (!m) throw new Error(`backend "${text}" is not host:port or http://host:port`);
  return { hostname: m[1], port: Number(m[2]) };
}

/** Kept-alive connections to each backend; {@link acquire} takes the next backend in turn. */
export class RelayPool {
  readonly #addrs: readonly { hostname: string; port: number }[];
  readonly #idle: Upstream[][];
  #next = 0;

  constructor(backends: readonly string[]) {
    if (backends.length === 0) throw new Error("a relay needs at least one backend");
    this.#addrs = backends.map(parseAddr);
    this.#idle = this.#addrs.map(() => []);
  }

  /** An idle connection to the next backend, or a new one. */
  async acquire(): Promise<Upstream> {
    const backend = this.#next;
    this.#next = (backend + 1) % this.#addrs.length;
    const idle = this.#idle[backend];
    const now = Date.now();
    for (let up = idle.pop(); up; up = idle.pop()) {
      if (now - up.idleSince < MAX_IDLE_MS) return up;
      up.conn.close();
    }
    const conn = await Deno.connect({ ...this.#addrs[backend], signal: AbortSignal.timeout(5000) });
    conn.setNoDelay(true);
    return { conn, reader: new BufReader(conn), backend, idleSince: now };
  }

  /** Puts a connection whose exchange ended cleanly back for reuse. */
  release(up: Upstream): void {
    up.idleSince = Date.now();
    this.#idle[up.backend].push(up);
  }

  /** Closes a connection that is mid-message or broken. */
  discard(up: Upstream): void {
    try {
      up.conn.close();
    } catch { /* already closed */ }
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.#idle) for (const up of list.splice(0)) this.discard(up);
  }
}

/**
 * The request head sent upstream: the client's method and target, a fixed
 * `host`, and the body's length when there is one; nothing else of the
 * client's head is forwarded.
 */
export function upstreamHead(method: string, target: string, bodyLength: number): string {
  const length = bodyLength > 0 || method === "POST" || method === "PUT"
    ? `content-length: ${bodyLength}\r\n`
    : "";
  return `${method} ${target} HTTP/1.1\r\nhost: x\r\n${length}\r\n`;
}

/** Encoded bodiless heads by method and target, so a GET costs no encoding. */
const headCache = new Map<string, Uint8Array>();

function encodedHead(method: string, target: string, bodyLength: number): Uint8Array {
  if (bodyLength > 0) return ascii(upstreamHead(method, target, bodyLength));
  const key = `${method} ${target}`;
  let bytes = headCache.get(key);
  if (!bytes) {
    bytes = ascii(upstreamHead(method, target, 0));
    if (headCache.size < 256) headCache.set(key, bytes);
  }
  return bytes;
}

/** A response head read from an upstream; the head's bytes are `up.reader.peek(headLength)`. */
export interface UpstreamResponse {
  readonly headLength: number;
  readonly head: HeadInfo;
}

/**
 * Sends one request on `up` (head, then `body` if given, `bodyLength`
 * bytes) and reads the response head. The caller consumes the head and
 * body, then releases or discards `up`; on a throw, it must discard it.
 */
export async function exchange(
  up: Upstream,
  request: { method: string; target: string; bodyLength: number },
  body?: AsyncIterable<Uint8Array>,
): Promise<UpstreamResponse> {
  await writeAll(up.conn, encodedHead(request.method, request.target, request.bodyLength));
  if (body) { for await (const chunk of body) await writeAll(up.conn, chunk); }
  const headLength = await up.reader.readHead();
  if (headLength === 0) throw new Error("backend closed the connection before answering");
  const head = parseHead(latin1(up.reader.peek(headLength)), "response", {
    toHead: request.method === "HEAD",
  });
  return { headLength, head };
}
