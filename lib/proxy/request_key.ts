/**
 * The key `consistent-hash` balances on, taken from the request as
 * `--hash-key` says. Pure. Only computed when the strategy uses it.
 *
 * @module
 */

import type { HashKey } from "../config/types.ts";
import { type HeaderPairs, headerValue } from "../core/transport.ts";

/** What a key can be taken from. */
export interface KeySource {
  /** Fields as received, lower-case names. */
  readonly headers: HeaderPairs;
  readonly clientIp: string;
  /** Origin-form target; the path is everything before `?`. */
  readonly target: string;
}

/** The request's hash key, or undefined when the configured source is absent. */
export function requestKey(spec: HashKey, src: KeySource): string | undefined {
  switch (spec.kind) {
    case "client-ip":
      return src.clientIp;
    case "path": {
      const q = src.target.indexOf("?");
      return q === -1 ? src.target : src.target.slice(0, q);
    }
    case "header":
      return headerValue(src.headers, spec.name.toLowerCase());
    case "cookie":
      return cookieValue(cookieHeader(src.headers), spec.name);
  }
}

/** The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The request's cookies as one `Cookie` value. HTTP/2 clients may split
 * them over several fields, which are joined with "; " (RFC 9113 §8.2.3).
 */
export function cookieHeader(fields: HeaderPairs): string | null {
  let value: string | null = null;
  for (let i = 0; i < fields.length; i++) {
    if (fields[i][0] !== "cookie") continue;
    value = value === null ? fields[i][1] : `${value}; ${fields[i][1]}`;
  }
  return value;
}
