/**
 * The key `consistent-hash` balances on, taken from the request as
 * `--hash-key` says. Pure. Only computed when the strategy uses it.
 *
 * @module
 */

import type { HashKey } from "../config/types.ts";
import { type HeaderPairs, headerValue } from "../core/transport.ts";
import type { PickRequest } from "./types.ts";

/** The request's hash key, or undefined when the configured source is absent. */
export function requestKey(spec: HashKey, src: PickRequest): string | undefined {
  switch (spec.kind) {
    case "client-ip":
      return src.clientIp;
    case "path": {
      const q = src.path.indexOf("?");
      return q === -1 ? src.path : src.path.slice(0, q);
    }
    case "header":
      return headerValue(src.headers, spec.name.toLowerCase());
    case "cookie":
      return cookieValue(cookieHeader(src.headers), spec.name);
  }
}

/**
 * The value of cookie `name` in a `Cookie` header (`a=1; name=value`), with
 * RFC 6265 §4.1.1's optional double quotes removed; the first one wins when
 * the name repeats. Undefined when absent.
 */
export function cookieValue(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
      ? value.slice(1, -1)
      : value;
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
