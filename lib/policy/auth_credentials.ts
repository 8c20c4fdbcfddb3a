/**
 * The `Authorization: Basic` field read strictly (RFC 7617): exactly one
 * field, the scheme (case-insensitive, RFC 9110 §11.1), one or more spaces,
 * then canonical base64 (RFC 4648 §4) of UTF-8 `user:password`, where the
 * user has no `:` and neither part has control characters (§2). Anything
 * else is no credentials at all, so a lenient decoder can't make two
 * different fields mean the same user.
 *
 * @module
 */

import type { HeaderPairs } from "../core/transport.ts";

/** Credentials from a well-formed field. */
export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
  /** `user:password` as decoded (the cache's key is derived from it). */
  readonly text: string;
}

const BASIC = /^[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9+/]+={0,2})$/;
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CTL = /[\x00-\x1f\x7f]/;
// deno-lint-ignore no-control-regex -- every ASCII byte, controls too (refused later)
const ASCII = /^[\x00-\x7f]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A binary string's bytes as UTF-8, or undefined when they are not (RFC 7617 §2.1: charset="UTF-8" is what we announce and accept). */
function decodeUtf8(binary: string): string | undefined {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The credentials of one `Authorization` value, or undefined when it is not strict Basic. Pure. */
export function parseBasic(value: string): BasicCredentials | undefined {
  const m = BASIC.exec(value);
  if (!m) return undefined;
  const b64 = m[1];
  if (b64.length % 4 !== 0) return undefined;
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    return undefined;
  }
  // atob ignores bits past the last byte: only the canonical spelling counts.
  if (btoa(binary) !== b64) return undefined;
  // ASCII is its own UTF-8: most credentials skip the decoder (2 µs of the 2.3 a field cost).
  const text = ASCII.test(binary) ? binary : decodeUtf8(binary);
  if (text === undefined) return undefined;
  const colon = text.indexOf(":");
  if (colon <= 0 || CTL.test(text)) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1), text };
}

/**
 * The credentials of a request's fields: undefined when there is no
 * `Authorization`, more than one, or one that is not strict Basic. Pure.
 */
export function basicCredentials(headers: HeaderPairs): BasicCredentials | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] !== "authorization") continue;
    if (value !== undefined) return undefined; // two fields: which one would count?
    value = headers[i][1];
  }
  return value === undefined ? undefined : parseBasic(value);
}

/** The `WWW-Authenticate` value for `realm` (RFC 7617 §2, with §2.1's charset). */
export function basicChallenge(realm: string): string {
  return `Basic realm="${realm.replace(/["\\]/g, "\\$&")}", charset="UTF-8"`;
}
