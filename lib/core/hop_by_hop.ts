/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) and their removal: shared by the
 * proxy's header rules and by policies that relay another service's
 * answer (forward auth).
 *
 * @module
 */

import type { HeaderPairs } from "./transport.ts";

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
export function isHopByHop(name: string): boolean {
  const candidates = HOP_BY_HOP_BY_LENGTH[name.length];
  if (candidates === undefined) return false;
  for (let i = 0; i < candidates.length; i++) if (candidates[i] === name) return true;
  return false;
}

/** A token (RFC 9110 §5.6.2), lower-case. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** The field names a `Connection` value lists (RFC 9110 §7.6.1), or null when none. */
export function connectionOptions(value: string | null | undefined): Set<string> | null {
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
export function teHasTrailers(value: string | null | undefined): boolean {
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
