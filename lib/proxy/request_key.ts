/**
 * The key `consistent-hash` balances on, taken from the request as
 * `--hash-key` says. Pure. Only computed when the strategy uses it.
 *
 * @module
 */

import type { HashKey } from "../config_policy.ts";

/** What a key can be taken from. */
export interface KeySource {
  readonly headers: Headers;
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
      return src.headers.get(spec.name) ?? undefined;
    case "cookie":
      return cookieValue(src.headers.get("cookie"), spec.name);
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
