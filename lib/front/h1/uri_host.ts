/**
 * `uri-host [":" port]` validation (RFC 9110 §7.2, RFC 3986 §3.2.2) for the
 * Host field, absolute-form targets and CONNECT's authority-form. Its own
 * module because it is URI grammar, not HTTP framing: a reg-name, a
 * bracketed IPv6 address or an IPv4 address, checked by character code with
 * no regular expression on the common (reg-name) path.
 *
 * @module
 */

/** reg-name characters (RFC 3986 §3.2.2): unreserved and sub-delims, but not "," (a list of hosts). */
const REG_NAME = new Uint8Array(128);
for (const ch of "-._~!$&'()*+;=") REG_NAME[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) REG_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) REG_NAME[c] = REG_NAME[c + 32] = 1;

/**
 * Whether `s` is `uri-host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a
 * non-empty reg-name (which covers IPv4) or a bracketed IPv6 address, then
 * 1-5 digits up to 65535 when a port is there. `portRequired` for CONNECT.
 */
export function validHostPort(s: string, portRequired: boolean): boolean {
  let hostEnd: number;
  if (s.charCodeAt(0) === 0x5b) {
    hostEnd = s.indexOf("]") + 1;
    if (hostEnd === 0 || !validIPv6(s, 1, hostEnd - 1)) return false;
  } else {
    hostEnd = 0;
    while (hostEnd < s.length && s.charCodeAt(hostEnd) !== 0x3a) hostEnd++;
    if (hostEnd === 0) return false;
    for (let i = 0; i < hostEnd; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x25 ? !(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) : !REG_NAME[c]) {
        return false;
      }
      if (c === 0x25) i += 2;
    }
  }
  if (hostEnd === s.length) return !portRequired;
  if (s.charCodeAt(hostEnd) !== 0x3a || s.length - hostEnd - 1 > 5) return false;
  return decimal(s, hostEnd + 1, s.length) <= 65535;
}

/** The value of the digits `s[from, to)`, or NaN when empty or not all digits. */
function decimal(s: string, from: number, to: number): number {
  if (from === to) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * IPv6address (RFC 3986 §3.2.2): eight pieces of 1-4 hex digits, one `::`
 * standing for one or more zero pieces, the last two optionally an IPv4
 * address. IPvFuture and zone identifiers are refused.
 */
function validIPv6(s: string, from: number, to: number): boolean {
  let pieces = 0;
  let compressed = false;
  let i = from;
  if (s.startsWith("::", i)) {
    compressed = true;
    i += 2;
  }
  while (i < to) {
    let j = i;
    while (j < to && j - i < 5 && isHex(s.charCodeAt(j))) j++;
    if (j < to && s.charCodeAt(j) === 0x2e) {
      // A dotted IPv4 tail takes the place of the last two pieces.
      if (!validIPv4(s, i, to)) return false;
      pieces += 2;
      break;
    }
    if (j === i || j - i > 4) return false;
    pieces++;
    if (j === to) break;
    if (s.charCodeAt(j) !== 0x3a || j + 1 === to) return false;
    i = j + 1;
    if (s.charCodeAt(i) === 0x3a) {
      if (compressed) return false;
      compressed = true;
      i++;
    }
  }
  return compressed ? pieces < 8 : pieces === 8;
}

/** IPv4address (RFC 3986 §3.2.2): four dec-octets 0-255 without leading zeros. */
function validIPv4(s: string, from: number, to: number): boolean {
  const parts = s.slice(from, to).split(".");
  if (parts.length !== 4) return false;
  return parts.every((p) =>
    p.length <= 3 && (p === "0" || p[0] !== "0") && decimal(p, 0, p.length) <= 255
  );
}
