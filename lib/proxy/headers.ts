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

export type { HeaderPairs };
export { headerValue } from "../core/transport.ts";

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, so a
 * proxy must not forward them.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  // RFC 7230 era and still sent by clients; meaningless beyond one hop.
  "keep-alive",
  // Non-standard, sent by old clients configured for a proxy.
  "proxy-connection",
  // RFC 9110 §10.1.4: TE is hop-by-hop; only `trailers` is passed on (below).
  "te",
  // RFC 9112 §6.1: framing is per connection; each side re-frames the body.
  "transfer-encoding",
  // RFC 9110 §7.8: protocol upgrades are per connection.
  "upgrade",
  // RFC 9110 §11.7.1/§11.7.2: credentials for this proxy, not the next hop.
  "proxy-authenticate",
  "proxy-authorization",
  // RFC 9110 §6.5: trailer announcements go with chunked framing we replace.
  "trailer",
]);

/** {@link HOP_BY_HOP} by name length, for {@link isHopByHop}. */
const HOP_BY_HOP_BY_LENGTH: string[][] = [];
for (const name of HOP_BY_HOP) (HOP_BY_HOP_BY_LENGTH[name.length] ??= []).push(name);

/**
 * Whether `name` is one of {@link HOP_BY_HOP}: by length first, then by
 * value. This runs for every field of every request and response, and
 * hashing each fresh name string for a `Set` lookup showed in profiles.
 */
function isHopByHop(name: string): boolean {
  const candidates = HOP_BY_HOP_BY_LENGTH[name.length];
  if (candidates === undefined) return false;
  for (let i = 0; i < candidates.length; i++) if (candidates[i] === name) return true;
  return false;
}

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

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** The field names a `Connection` value lists (RFC 9110 §7.6.1), or null when none. */
function connectionOptions(value: string | null | undefined): Set<string> | null {
  // The common values name no other field (keep-alive is hop-by-hop anyway).
  if (!value || value === "keep-alive" || value === "close") return null;
  let names: Set<string> | null = null;
  for (const token of value.split(",")) {
    const name = token.trim().toLowerCase();
    if (name !== "" && TOKEN.test(name)) (names ??= new Set()).add(name);
  }
  return names;
}

/** Whether TE lists `trailers`, which is passed on because it states what the origin client accepts. */
function teHasTrailers(value: string | null | undefined): boolean {
  return !!value && value.split(",").some((t) => t.trim().toLowerCase() === "trailers");
}

/**
 * Removes hop-by-hop fields, including every field named in `Connection`
 * (RFC 9110 §7.6.1). `TE: trailers` survives (gRPC and others rely on it);
 * TE is read before the `Connection` names are applied, since RFC 9110
 * §10.1.4 makes a sender of TE list it there too.
 */
export function stripHopByHop(fields: HeaderPairs): HeaderPairs {
  let connection: string | undefined;
  let te: string | undefined;
  const out: HeaderPairs = [];
  for (let i = 0; i < fields.length; i++) {
    const pair = fields[i];
    const name = pair[0];
    if (name === "connection") connection = connection ? `${connection}, ${pair[1]}` : pair[1];
    else if (name === "te") te = te ? `${te}, ${pair[1]}` : pair[1];
    if (!isHopByHop(name)) out.push(pair);
  }
  // Fields that `Connection` names are removed too; the usual values name none.
  const named = connectionOptions(connection);
  const kept = named ? out.filter((pair) => !named.has(pair[0])) : out;
  if (teHasTrailers(te)) kept.push(["te", "trailers"]);
  return kept;
}

/** The fields of a `Headers` as pairs, in one pass (`forEach` beats for-of several times). */
export function headerPairs(headers: Headers): HeaderPairs {
  const out: HeaderPairs = [];
  headers.forEach((value, name) => void out.push([name, value]));
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
