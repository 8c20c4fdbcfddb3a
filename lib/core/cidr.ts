/**
 * IP address ranges for `--trust-proxy`: which peers may hand us their own
 * `X-Forwarded-*` and `Forwarded` headers.
 *
 * @module
 */

/** A parsed CIDR block, addresses as 128-bit integers (IPv4 mapped into ::ffff:0:0/96). */
export interface Cidr {
  /** The block as written (trimmed), e.g. `10.0.0.0/8`, for messages and `/status`. */
  readonly text: string;
  /** The network address, host bits cleared: `a` is in the block when `(a & mask) === base`. */
  readonly base: bigint;
  /** The prefix as a mask over all 128 bits (an IPv4 `/n` covers the 96 mapped bits too). */
  readonly mask: bigint;
}

const ALL_ONES = (1n << 128n) - 1n;
const V4_MAPPED = 0xffffn << 32n;

/** Parses `10.0.0.0/8`, `::1/128` or a bare address; `undefined` when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, bits, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const value = parseIp(addr);
  if (value === undefined) return undefined;
  const isV4 = !addr.includes(":");
  const width = isV4 ? 32 : 128;
  const prefix = bits === undefined ? width : Number(bits);
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  if (prefix < 0 || prefix > width) return undefined;
  const total = prefix + (128 - width);
  const mask = total === 0 ? 0n : (ALL_ONES << BigInt(128 - total)) & ALL_ONES;
  return { text: text.trim(), base: value & mask, mask };
}

/** Whether `ip` lies in any of `ranges`. Unparsable addresses are never trusted. */
export function ipInRanges(ip: string, ranges: readonly Cidr[]): boolean {
  if (ranges.length === 0) return false;
  const value = parseIp(ip);
  if (value === undefined) return false;
  return ranges.some((r) => (value & r.mask) === r.base);
}

/** Parses an IPv4 or IPv6 address to a 128-bit integer (IPv4 as ::ffff:a.b.c.d). */
export function parseIp(text: string): bigint | undefined {
  const ip = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!ip.includes(":")) {
    const v4 = parseIpv4(ip);
    return v4 === undefined ? undefined : V4_MAPPED | v4;
  }
  return parseIpv6(ip.split("%")[0]);
}

function parseIpv4(ip: string): bigint | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(ip: string): bigint | undefined {
  const halves = ip.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  let v4Tail: bigint | undefined;
  if (last?.includes(".")) {
    v4Tail = parseIpv4(last);
    if (v4Tail === undefined) return undefined;
    (halves.length === 2 ? tail : head).pop();
  }
  const explicit = head.length + tail.length + (v4Tail === undefined ? 0 : 2);
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const zeros = 8 - explicit;
  let value = 0n;
  const push = (g: string) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new RangeError(g);
    value = (value << 16n) | BigInt(parseInt(g, 16));
  };
  try {
    head.forEach(push);
    for (let i = 0; i < zeros; i++) value <<= 16n;
    tail.forEach(push);
  } catch {
    return undefined;
  }
  if (v4Tail !== undefined) value = (value << 32n) | v4Tail;
  return value;
}
