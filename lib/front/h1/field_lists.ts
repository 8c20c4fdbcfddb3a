/**
 * Token and list syntax (RFC 9110 §5.6.1, §5.6.2) shared by the request-line
 * parser and the field rules of the h1 front: whether a character is a
 * tchar, and membership and trimming in comma-separated lists, all by
 * character code and without allocating a string per element.
 *
 * @module
 */

import { TCHAR } from "../../http1/syntax.ts";

const HTAB = 9;
const SP = 32;

/** Whether the character code `c` is a tchar (RFC 9110 §5.6.2), the alphabet of methods and tokens. */
export function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/**
 * Whether the comma-separated `list` has `token` (lower-case) as a member,
 * ignoring case and OWS (RFC 9110 §5.6.1), without allocating.
 */
export function hasToken(list: string, token: string): boolean {
  for (let i = 0; i <= list.length;) {
    let e = list.indexOf(",", i);
    if (e === -1) e = list.length;
    const [a, b] = trimmed(list, i, e);
    if (equalsLower(list, a, b, token)) return true;
    i = e + 1;
  }
  return false;
}

/** `[a, b)` within `[from, to)` without leading and trailing SP/HTAB. */
export function trimmed(s: string, from: number, to: number): [number, number] {
  while (from < to && (s.charCodeAt(from) === SP || s.charCodeAt(from) === HTAB)) from++;
  while (to > from && (s.charCodeAt(to - 1) === SP || s.charCodeAt(to - 1) === HTAB)) to--;
  return [from, to];
}

/** Whether `s[from, to)` is `lower` ignoring ASCII case. */
export function equalsLower(s: string, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(from + i);
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
