/**
 * Header rules of the proxy path, as pure functions. Headers travel as lists
 * of `[lower-case name, value]` pairs rather than `Headers` objects: copying
 * and editing `Headers` cost more than the rest of a small request together
 * (see docs/benchmarks.md), and the upstream client serializes pairs directly.
 *
 * @module
 */

import { type Cidr, ipInRanges } from "../core/cidr.ts";
import type { HeaderPairs } from "../core/transport.ts";
import {
  connectionOptions,
  isHopByHop,
  stripHopByHop,
  teHasTrailers,
  TOKEN,
} from "../core/hop_by_hop.ts";

export type { HeaderPairs };
export { headerValue } from "../core/transport.ts";
export { stripHopByHop };

/**
 * Fields describing earlier hops that this proxy rewrites, taking what a
 * trusted peer sent as the start of the chain.
 */
const FORWARDING: ReadonlySet<string> = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/**
 * Whether a field claims something about earlier hops (`X-Forwarded-*` of
 * any kind, `X-Real-IP`, `Forwarded`): from an untrusted peer every one is
 * dropped, or a client could tell the backend which port, prefix or address
 * it came from.
 */
function claimsEarlierHop(name: string): boolean {
  return FORWARDING.has(name) || name.startsWith("x-forwarded-") || name === "x-real-ip";
}

/**
 * The fields of a `Headers` as pairs, in one pass (`forEach` beats for-of
 * several times). `Headers` joins repeated fields with ", ", which for
 * `Cookie` is wrong: HTTP/2 clients send each cookie as its own field (RFC
 * 9113 §8.2.3) and the pairs must be joined with "; " to read as one
 * (RFC 6265 §5.4). A cookie's own value can't hold ", " (cookie-octet has
 * neither), so every ", " in a joined field is a join.
 */
export function headerPairs(headers: Headers): HeaderPairs {
  const out: HeaderPairs = [];
  headers.forEach((value, name) =>
    void out.push([name, name === "cookie" ? value.replaceAll(", ", "; ") : value])
  );
  return out;
}

/** What the proxy knows about the client connection. */
export interface ClientInfo {
  /** The peer's IP address, without brackets. */
  readonly ip: string;
  /** `http` or `https`: the scheme the client used to reach us. */
  readonly proto: "http" | "https";
  /**
   * The authority the request is for: its `Host`, an absolute-form
   * target's authority, or HTTP/2's `:authority`. Sent upstream as the one
   * `Host` field.
   */
  readonly host: string;
}

/** The `Via` pseudonym this proxy uses (RFC 9110 §7.6.3: a pseudonym may replace the host). */
export const VIA_PSEUDONYM = "deno-lb";
const VIA = `1.1 ${VIA_PSEUDONYM}`;

/**
 * The header pairs to send upstream for a client request, in one pass:
 * hop-by-hop fields removed (as {@link stripHopByHop}), then forwarding
 * fields added. Unless the peer is in `trusted`, what the client claimed
 * about earlier hops is dropped first: otherwise anyone could forge their
 * address for the backend's logs and access rules.
 *
 * `X-LB-Explain` is dropped too: its value is the admin token.
 *
 * `Host` and `Content-Length` are the request's own facts, not the client's
 * fields: one `Host` with `client.host` goes first (so an absolute-form
 * target, or `Connection: host`, can't make the backend see another or
 * none), and one `Content-Length` with `contentLength` when the request has
 * one (a list like `5, 5` must not be forwarded, RFC 9110 §8.6).
 */
export function upstreamRequestHeaders(
  headers: HeaderPairs,
  client: ClientInfo,
  trusted: readonly Cidr[],
  contentLength?: number,
): HeaderPairs {
  let connection: string | undefined;
  let te: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i][0];
    if (name === "connection") {
      connection = connection ? `${connection}, ${headers[i][1]}` : headers[i][1];
    } else if (name === "te") te = te ? `${te}, ${headers[i][1]}` : headers[i][1];
  }
  const named = connectionOptions(connection);
  const trust = trusted.length > 0 && ipInRanges(client.ip, trusted);
  let xff: string | undefined;
  let xfp: string | undefined;
  let xfh: string | undefined;
  let forwarded: string | undefined;
  let via: string | undefined;
  const out: HeaderPairs = [["host", client.host]];
  if (contentLength !== undefined) out.push(["content-length", String(contentLength)]);
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    const name = pair[0];
    if (name === "host" || name === "content-length") continue;
    if (isHopByHop(name) || named?.has(name)) continue;
    if (name === "via") {
      via = via ? `${via}, ${pair[1]}` : pair[1];
      continue;
    }
    // `x-` and `forwarded` are the only prefixes that can claim a hop.
    const c = name.charCodeAt(0);
    // `X-LB-Explain` carries the admin token: never sent on, valid or not.
    if (c === 0x78 && name === "x-lb-explain") continue;
    if ((c === 0x78 || c === 0x66) && claimsEarlierHop(name)) {
      if (!trust) continue;
      const value = pair[1];
      if (name === "x-forwarded-for") xff = xff ? `${xff}, ${value}` : value;
      else if (name === "x-forwarded-proto") xfp ??= value;
      else if (name === "x-forwarded-host") xfh ??= value;
      else if (name === "forwarded") forwarded = forwarded ? `${forwarded}, ${value}` : value;
      else out.push(pair); // other claims of a trusted peer pass as they are
      continue;
    }
    out.push(pair);
  }
  if (teHasTrailers(te)) out.push(["te", "trailers"]);
  out.push(
    ["x-forwarded-for", xff ? `${xff}, ${client.ip}` : client.ip],
    ["x-forwarded-proto", xfp ?? client.proto],
    ["x-forwarded-host", xfh ?? client.host],
    [
      "forwarded",
      forwarded ? `${forwarded}, ${forwardedElement(client)}` : forwardedElement(client),
    ],
    ["via", via ? `${via}, ${VIA}` : VIA],
  );
  return out;
}

/**
 * The header pairs to send the client for a backend's response: hop-by-hop
 * fields removed, this proxy added to `Via` (RFC 9110 §7.6.3).
 */
export function clientResponseHeaders(fields: HeaderPairs): HeaderPairs {
  const out = stripHopByHop(fields);
  out.push(["via", VIA]);
  return out;
}

/**
 * One RFC 7239 element: `for=...;host=...;proto=...`. IPv6 addresses are
 * bracketed and quoted (§6); values that are not tokens are quoted (§4).
 */
export function forwardedElement(client: ClientInfo): string {
  // Keep-alive clients send the same address and Host request after request:
  // comparing with the last one is cheaper than building and hashing a key.
  const last = LAST_FORWARDED;
  if (last.ip === client.ip && last.host === client.host && last.proto === client.proto) {
    return last.element;
  }
  const key = `${client.ip} ${client.host} ${client.proto}`;
  let element = FORWARDED_CACHE.get(key);
  if (element === undefined) {
    const node = client.ip.includes(":") ? `"[${client.ip}]"` : client.ip;
    element = `for=${node};host=${quoteIfNeeded(client.host)};proto=${client.proto}`;
    if (FORWARDED_CACHE.size >= 1024) FORWARDED_CACHE.clear();
    FORWARDED_CACHE.set(key, element);
  }
  LAST_FORWARDED = { ip: client.ip, host: client.host, proto: client.proto, element };
  return element;
}
const FORWARDED_CACHE = new Map<string, string>();
let LAST_FORWARDED = { ip: "", host: "", proto: "", element: "" };

function quoteIfNeeded(value: string): string {
  if (TOKEN.test(value.toLowerCase())) return value;
  return `"${value.replace(/(["\\])/g, "\\$1")}"`;
}
