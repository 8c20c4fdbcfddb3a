/**
 * Header rules of the proxy path, as pure functions over `Headers`.
 *
 * @module
 */

import { type Cidr, ipInRanges } from "../cidr.ts";

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, so a
 * proxy must not forward them.
 */
const HOP_BY_HOP = [
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
] as const;

/**
 * Removes hop-by-hop fields in place, including every field named in
 * `Connection` (RFC 9110 §7.6.1). `TE: trailers` survives because it states
 * what the origin client accepts, which gRPC and others rely on.
 */
export function stripHopByHop(headers: Headers): void {
  // Read TE first: RFC 9110 §10.1.4 makes a sender of TE also list it in
  // Connection, which would delete it below.
  const te = headers.get("te");
  const keepTrailers = te !== null &&
    te.split(",").some((t) => t.trim().toLowerCase() === "trailers");
  const connection = headers.get("connection");
  if (connection !== null) {
    for (const token of connection.split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "" && isFieldName(name)) headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
  if (keepTrailers) headers.set("te", "trailers");
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
function isFieldName(name: string): boolean {
  return TOKEN.test(name);
}

/** What the proxy knows about the client connection. */
export interface ClientInfo {
  /** The peer's IP address, without brackets. */
  readonly ip: string;
  /** `http` or `https`: the scheme the client used to reach us. */
  readonly proto: "http" | "https";
  /** The client's `Host`. */
  readonly host: string;
}

/** The `Via` pseudonym this proxy uses (RFC 9110 §7.6.3: a pseudonym may replace the host). */
export const VIA_PSEUDONYM = "deno-lb";

/**
 * Adds forwarding headers in place. Unless the peer is in `trusted`, what the
 * client claimed about earlier hops is dropped first: otherwise anyone could
 * forge their address for the backend's logs and access rules.
 */
export function addForwardingHeaders(
  headers: Headers,
  client: ClientInfo,
  trusted: readonly Cidr[],
): void {
  const trust = ipInRanges(client.ip, trusted);
  if (!trust) {
    headers.delete("x-forwarded-for");
    headers.delete("x-forwarded-proto");
    headers.delete("x-forwarded-host");
    headers.delete("forwarded");
  }
  const prior = headers.get("x-forwarded-for");
  headers.set("x-forwarded-for", prior ? `${prior}, ${client.ip}` : client.ip);
  if (!headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", client.proto);
  if (!headers.has("x-forwarded-host")) headers.set("x-forwarded-host", client.host);
  headers.append("forwarded", forwardedElement(client));
  appendVia(headers);
}

/** Adds this proxy to `Via` (RFC 9110 §7.6.3), keeping earlier hops. */
export function appendVia(headers: Headers): void {
  headers.append("via", `1.1 ${VIA_PSEUDONYM}`);
}

/**
 * One RFC 7239 element: `for=...;host=...;proto=...`. IPv6 addresses are
 * bracketed and quoted (§6); values that are not tokens are quoted (§4).
 */
export function forwardedElement(client: ClientInfo): string {
  const node = client.ip.includes(":") ? `"[${client.ip}]"` : client.ip;
  return `for=${node};host=${quoteIfNeeded(client.host)};proto=${client.proto}`;
}

function quoteIfNeeded(value: string): string {
  if (TOKEN.test(value.toLowerCase())) return value;
  return `"${value.replace(/(["\\])/g, "\\$1")}"`;
}
