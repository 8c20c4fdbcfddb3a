/**
 * The client's address as policies should see it. The peer is the client
 * unless it is a trusted proxy (`--trust-proxy`); then `X-Forwarded-For` is
 * read from the right, past every trusted hop, and the first address not
 * trusted is the client (what a trusted chain vouches for; anything left
 * of it may be forged). A chain of trusted hops only ends at its leftmost.
 *
 * @module
 */

import { type Cidr, ipInRanges, parseIp } from "./cidr.ts";
import type { HeaderPairs } from "./transport.ts";

/** The client's address for `peer`'s request with `headers`. Pure. */
export function effectiveClientIp(
  peer: string,
  headers: HeaderPairs,
  trusted: readonly Cidr[],
): string {
  if (trusted.length === 0 || !ipInRanges(peer, trusted)) return peer;
  let chain: string[] | undefined;
  for (const [name, value] of headers) {
    if (name === "x-forwarded-for") (chain ??= []).push(...value.split(","));
  }
  if (chain === undefined) return peer;
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = unbracket(chain[i].trim());
    if (parseIp(hop) === undefined) break; // garbage ends what can be believed
    client = hop;
    if (!ipInRanges(hop, trusted)) break;
  }
  return client;
}

/** `[2001:db8::1]` or `[2001:db8::1]:443` -> `2001:db8::1`; `192.0.2.1:80` -> `192.0.2.1`. */
function unbracket(hop: string): string {
  if (hop.startsWith("[")) {
    const end = hop.indexOf("]");
    return end === -1 ? hop : hop.slice(1, end);
  }
  const colon = hop.indexOf(":");
  return colon !== -1 && colon === hop.lastIndexOf(":") ? hop.slice(0, colon) : hop;
}
