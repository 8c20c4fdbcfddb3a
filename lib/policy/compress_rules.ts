/**
 * Which replies the compression policy may compress, and the fields of the
 * ones it does. Pure: the policy (`compression.ts`) asks these for each
 * reply, then negotiates with the client.
 *
 * A reply is *eligible* when some client could get it compressed. Never:
 * - HEAD answers are not compressed (they have no body), though an eligible
 *   one gets the fields a GET would (RFC 9110 §9.3.2: a cache may update a
 *   stored GET from them);
 * - 1xx, 101 (a tunnel), 204 and 304 (no body), 206 or any reply with
 *   `Content-Range` (the range is of the identity body: compressing it
 *   would make the ranges of one representation refer to another);
 * - a reply with a `Content-Encoding` other than `identity` (it is encoded
 *   already: nothing is compressed twice);
 * - `Cache-Control: no-transform`, on the reply (RFC 9111 §5.2.2.6) or on
 *   the request (§5.2.1.6, checked by the policy);
 * - `text/event-stream`: server-sent events must reach the client as each
 *   is written, and some clients and proxies misread a compressed stream;
 * - a type not in `types`, or none at all;
 * - a body shorter than `min-size` when its length is known (bytes in hand
 *   or `Content-Length`), or an empty one.
 *
 * @module
 */

import type { ContentCoding } from "../config/policies/types.ts";
import type { ProxyReply } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";

const EVENT_STREAM = "text/event-stream";

/** The configured `types`: exact ones and `major/*` wildcards. */
export class TypeMatcher {
  readonly #exact: ReadonlySet<string>;
  readonly #major: ReadonlySet<string>;

  constructor(types: readonly string[]) {
    this.#exact = new Set(types.filter((t) => !t.endsWith("/*")));
    this.#major = new Set(types.filter((t) => t.endsWith("/*")).map((t) => t.slice(0, -2)));
  }

  /** Whether a reply with this `Content-Type` value is compressed (never SSE). */
  matches(contentType: string): boolean {
    const semi = contentType.indexOf(";");
    const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    if (type === EVENT_STREAM) return false;
    if (this.#exact.has(type)) return true;
    const slash = type.indexOf("/");
    return slash > 0 && this.#major.has(type.slice(0, slash));
  }
}

/** Whether a `Cache-Control` value has `no-transform`. */
export function noTransform(cacheControl: string): boolean {
  return /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl);
}

/** The reply's body length when known: bytes in hand, else `Content-Length`. */
function knownLength(reply: ProxyReply, contentLength: string | undefined): number | undefined {
  if (reply.body instanceof Uint8Array) return reply.body.length;
  if (contentLength === undefined) return undefined;
  const n = Number(contentLength);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Whether some client could get `reply` (to a request with `method`)
 * compressed: every rule above but the client's own fields. One pass over
 * the fields, nothing allocated for a reply that isn't.
 */
export function eligible(
  reply: ProxyReply,
  method: string,
  types: TypeMatcher,
  minBytes: number,
): boolean {
  const status = reply.status;
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  if (reply.upgrade !== undefined) return false;
  const head = method === "HEAD";
  if (reply.body === null && !head) return false;
  let type: string | undefined;
  let length: string | undefined;
  for (const [name, value] of reply.headers) {
    switch (name) {
      case "content-type":
        type ??= value;
        break;
      case "content-length":
        length ??= value;
        break;
      case "content-range":
        return false;
      case "content-encoding":
        if (value.trim().toLowerCase() !== "identity") return false;
        break;
      case "cache-control":
        if (noTransform(value)) return false;
        break;
    }
  }
  if (type === undefined || !types.matches(type)) return false;
  const known = knownLength(reply, length);
  return known === undefined || (known > 0 && known >= minBytes);
}

/** `Vary` values with `Accept-Encoding` in them (nothing added to `*` or to one that has it). */
export function varyWithAcceptEncoding(vary: string | undefined): string {
  if (vary === undefined || vary.trim() === "") return "Accept-Encoding";
  for (const part of vary.split(",")) {
    const token = part.trim().toLowerCase();
    if (token === "*" || token === "accept-encoding") return vary;
  }
  return `${vary}, Accept-Encoding`;
}

/**
 * `headers` with `Vary: Accept-Encoding` merged in (into one `Vary`), for
 * an eligible reply sent as it is: a cache must not give this identity
 * body's copy to a client that would have had it compressed, nor (had it
 * been compressed) the other way round. The same list when it varies
 * already.
 */
export function withVary(headers: HeaderPairs): HeaderPairs {
  let vary: string | undefined;
  let fields = 0;
  for (const [name, value] of headers) {
    if (name === "vary") {
      vary = vary === undefined ? value : `${vary}, ${value}`;
      fields++;
    }
  }
  const merged = varyWithAcceptEncoding(vary);
  if (merged === vary && fields === 1) return headers;
  const out: HeaderPairs = fields === 0 ? headers.slice() : headers.filter(([n]) => n !== "vary");
  out.push(["vary", merged]);
  return out;
}

/**
 * A strong entity tag made weak (`"x"` -> `W/"x"`), as NGINX does: the
 * compressed body is a different representation, byte for byte, but
 * semantically the same, so conditional requests still match. An
 * unquoted (malformed) tag is dropped, as nothing could match it.
 */
export function weakEtag(etag: string): string | undefined {
  const tag = etag.trim();
  if (tag.startsWith("W/")) return tag;
  return tag.startsWith('"') ? `W/${tag}` : undefined;
}

/**
 * Fields whose values describe the identity body, dropped from a compressed
 * reply: its length and ranges (the front frames the new body itself), and
 * digests (RFC 9530 and older forms) of bytes that are no longer sent.
 */
const IDENTITY_ONLY: ReadonlySet<string> = new Set([
  "content-length",
  "content-encoding",
  "accept-ranges",
  "content-md5",
  "content-digest",
  "repr-digest",
  "digest",
]);

/**
 * The fields of a reply compressed with `coding`: `Content-Encoding` set,
 * `Vary` merged, a strong `ETag` weakened, and the identity body's length,
 * ranges and digests gone.
 */
export function encodedHeaders(headers: HeaderPairs, coding: ContentCoding): HeaderPairs {
  const out: HeaderPairs = [];
  let vary: string | undefined;
  for (const field of headers) {
    const name = field[0];
    if (IDENTITY_ONLY.has(name)) continue;
    if (name === "vary") vary = vary === undefined ? field[1] : `${vary}, ${field[1]}`;
    else if (name === "etag") {
      const weak = weakEtag(field[1]);
      if (weak !== undefined) out.push(["etag", weak]);
    } else out.push(field);
  }
  out.push(["content-encoding", coding], ["vary", varyWithAcceptEncoding(vary)]);
  return out;
}
