/**
 * What a rate limit's bucket is per: the client's address (after
 * `--trust-proxy` and the PROXY protocol), a request field, a cookie, the
 * route, or several of them. Parts are joined with a line feed, which no
 * field value, cookie or address can hold, so two different requests never
 * make the same key by accident. A key longer than {@link HASH_OVER} (a
 * long API key or session cookie) is replaced by its SHA-256, so a bucket's
 * key costs a bounded number of bytes in the local table and in Redis.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { RateKeyPart } from "../config/policies/types.ts";
import { parseIp } from "../core/cidr.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { PolicyExchange } from "./types.ts";

/** Keys longer than this many characters are stored as their hash. */
export const HASH_OVER = 96;

/**
 * What a key is read from: a {@link PolicyExchange}, or anything with its
 * client address and request fields (`lb replay` passes a logged request,
 * which has no fields).
 */
export type KeySource = Pick<PolicyExchange, "clientIp"> & {
  readonly request: { readonly headers: HeaderPairs };
};

/** Reads a request's key. */
export type KeyReader = (x: KeySource) => string;

/**
 * A reader for `parts` on route `route`. The common single-part keys read
 * one value with nothing joined; a missing field or cookie is the empty
 * value, which every request without it shares.
 */
export function keyReader(parts: readonly RateKeyPart[], route: string): KeyReader {
  const readers = parts.map((part) => partReader(part, route));
  if (parts.length === 1 && parts[0].kind === "ip") return (x) => ipKey(x.clientIp);
  if (readers.length === 1) {
    const only = readers[0];
    return (x) => bounded(only(x));
  }
  return (x) => {
    let key = readers[0](x);
    for (let i = 1; i < readers.length; i++) key += "\n" + readers[i](x);
    return bounded(key);
  };
}

function partReader(part: RateKeyPart, route: string): KeyReader {
  switch (part.kind) {
    case "ip":
      return (x) => ipKey(x.clientIp);
    case "route":
      return () => route;
    case "header": {
      const name = part.name;
      return (x) => soleField(x.request.headers, name);
    }
    case "cookie": {
      const name = part.name;
      return (x) => soleCookie(x.request.headers, name);
    }
  }
}

/**
 * What a request that gives a keyed field or cookie more than once is
 * counted as: one bucket for all of them. Keyed on one of the values, a
 * client could send a fresh decoy beside its real key each time (and a
 * backend reading the other one would still accept it); this way the
 * decoys share a single limit.
 */
export const REPEATED = "\0repeated";

/** The value of field `name` when it is given once; "" when absent; {@link REPEATED} when more. Pure. */
export function soleField(headers: readonly (readonly [string, string])[], name: string): string {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] !== name) continue;
    if (value !== undefined) return REPEATED;
    value = headers[i][1];
  }
  return value ?? "";
}

/** The value of cookie `name` when it is given once; "" when absent; {@link REPEATED} when more. Pure. */
export function soleCookie(headers: readonly (readonly [string, string])[], name: string): string {
  const first = cookieValue(headers, name);
  if (first === undefined) return "";
  let seen = 0;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] !== "cookie") continue;
    for (const pair of headers[i][1].split(";")) {
      const eq = pair.indexOf("=");
      if (eq !== -1 && pair.slice(0, eq).trim() === name && ++seen > 1) return REPEATED;
    }
  }
  return first;
}

/**
 * The bucket of a client address: an IPv4 address itself, an IPv6 one its
 * /64. A /64 is what one subscriber or host is given, so keying on the
 * whole address would let it rotate through 2^64 addresses, each with
 * fresh tokens, and push real clients out of the table. Pure.
 */
export function ipKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const value = parseIp(ip);
  if (value === undefined) return ip;
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address.
  if (value >> 32n === 0xffffn) {
    const v4 = Number(value & 0xffffffffn);
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  return `${(value >> 64n).toString(16)}::/64`;
}

/** A key as stored: itself when short, else `#` and its SHA-256 (base64). */
export function bounded(key: string): string {
  return key.length <= HASH_OVER ? key : "#" + createHash("sha256").update(key).digest("base64");
}

/**
 * The value of cookie `name` in the request's `Cookie` fields (RFC 6265
 * §5.4: `name=value` pairs split by `; `, in one field or several), the
 * first one when it is given twice. Pure.
 */
export function cookieValue(
  headers: readonly (readonly [string, string])[],
  name: string,
): string | undefined {
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] !== "cookie") continue;
    const text = headers[i][1];
    let at = 0;
    while (at < text.length) {
      while (text.charCodeAt(at) === 32 || text.charCodeAt(at) === 59) at++; // ' ' and ';'
      const end = text.indexOf(";", at);
      const stop = end < 0 ? text.length : end;
      // No slice per pair: the name must end at the '=' (the grammar has no space there).
      const eq = at + name.length;
      if (eq < stop && text.charCodeAt(eq) === 61 && text.startsWith(name, at)) {
        return unquote(text.slice(eq + 1, stop).trim());
      }
      at = stop + 1;
    }
  }
  return undefined;
}

/** RFC 6265 §4.1.1 allows a cookie value in double quotes; they are not part of it. */
function unquote(value: string): string {
  return value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"'
    ? value.slice(1, -1)
    : value;
}
