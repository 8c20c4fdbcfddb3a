/**
 * The pure parts of forward auth: the subrequest's fields, the copy of a
 * 2xx answer's fields onto the upstream request, the client's reply made
 * from a denial, and reading an answer's body within a bound.
 *
 * @module
 */

import { stripHopByHop } from "../core/hop_by_hop.ts";
import type { HeaderPairs } from "../core/transport.ts";

/** Where the subrequest goes, from the configured URL. */
export interface AuthTarget {
  /** `http://host:port`: the transport's pool key. */
  readonly origin: string;
  /** Host name or IP literal (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  readonly tls: boolean;
  /** The URL's authority, sent as `Host`. */
  readonly authority: string;
  /** Path and query. */
  readonly path: string;
}

/** The target of an `http://` or `https://` URL the config checked. Pure. */
export function authTarget(text: string): AuthTarget {
  const url = new URL(text);
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    origin: `${url.protocol}//${url.host}`,
    hostname,
    port,
    tls,
    authority: url.host,
    path: `${url.pathname}${url.search}`,
  };
}

/**
 * Fields that are the subrequest's own, not the client's: its `Host` is the
 * auth service's, it has no body, and the method and URI it asks about are
 * ours to state, under both names auth services read: Traefik's
 * `X-Forwarded-*` and NGINX's `X-Original-*` (Authelia, among others,
 * prefers `X-Original-URL`). A client's own would name a public URL while
 * asking for a protected one.
 */
const NOT_SENT: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "expect",
  "x-forwarded-method",
  "x-forwarded-uri",
  "x-original-method",
  "x-original-uri",
  "x-original-url",
]);

/** What the proxy says about the client: always sent, whatever `request-headers` lists. */
const FORWARDING: ReadonlySet<string> = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/** What the subrequest is about: the client's request as received. */
export interface AuthSubject {
  readonly method: string;
  /** The request target as the client sent it (before any route rewrite). */
  readonly uri: string;
  /**
   * The upstream request's fields: hop-by-hop removed and forwarding fields
   * set by the proxy's rules (so `X-Forwarded-For` is what `--trust-proxy`
   * allows, not what the client claims).
   */
  readonly fields: HeaderPairs;
}

/**
 * The subrequest's fields: `Host` of the auth service; the client's fields
 * (only `only` when given) without framing; the forwarding fields; and
 * `X-Forwarded-Method`, `X-Forwarded-Uri` and `X-Original-Method`, `-URI`
 * and `-URL`, replacing any the client sent. Pure.
 */
export function authRequestFields(
  subject: AuthSubject,
  authority: string,
  only?: ReadonlySet<string>,
): HeaderPairs {
  const out: HeaderPairs = [["host", authority]];
  const fields = subject.fields;
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i][0];
    if (NOT_SENT.has(name)) continue;
    if (only !== undefined && !only.has(name) && !FORWARDING.has(name)) continue;
    out.push(fields[i]);
  }
  let host = "";
  let proto = "http";
  for (let i = 0; i < fields.length; i++) {
    if (fields[i][0] === "host" && host === "") host = fields[i][1];
    else if (fields[i][0] === "x-forwarded-proto") proto = fields[i][1];
  }
  out.push(
    ["x-forwarded-method", subject.method],
    ["x-forwarded-uri", subject.uri],
    ["x-original-method", subject.method],
    ["x-original-uri", subject.uri],
    ["x-original-url", `${proto}://${host}${subject.uri}`],
  );
  return out;
}

/**
 * Replaces every field named in `names` on `upstream` (in place) with the
 * auth answer's fields of that name: what the client sent under those
 * names is removed even when the answer has none, so it can't be forged.
 */
export function copyAuthFields(
  upstream: HeaderPairs,
  answer: HeaderPairs,
  names: ReadonlySet<string>,
): void {
  if (names.size === 0) return;
  let w = 0;
  for (let r = 0; r < upstream.length; r++) {
    if (!names.has(upstream[r][0])) upstream[w++] = upstream[r];
  }
  upstream.length = w;
  for (let i = 0; i < answer.length; i++) {
    if (names.has(answer[i][0])) upstream.push([answer[i][0], answer[i][1]]);
  }
}

/**
 * A denial's fields for the client: without hop-by-hop ones (those
 * `Connection` names too, `core/hop_by_hop.ts`) or framing, which the front
 * sets itself (RFC 9112 §6). Pure.
 */
export function denialFields(answer: HeaderPairs): HeaderPairs {
  return stripHopByHop(answer).filter(([name]) => name !== "content-length" && name !== "te");
}

/** An answer body longer than the bound. */
export class BodyTooLarge extends Error {
  constructor(limit: number) {
    super(`the auth service's answer is over ${limit} bytes`);
    this.name = "BodyTooLarge";
  }
}

/**
 * The body whole, if it has at most `limit` bytes; rejects with
 * {@link BodyTooLarge} (after cancelling the stream) when longer, and with
 * the stream's error when it fails.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  limit: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) {
    if (body.length > limit) throw new BodyTooLarge(limit);
    return body;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Throws away a body that is not wanted (a 2xx answer's): drained when small, so the connection is reused; else cancelled. */
export async function discardBody(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  limit: number,
): Promise<void> {
  try {
    await readBounded(body, limit);
  } catch {
    // Too long or broken: cancelled or ended either way; the connection is not reused.
  }
}
