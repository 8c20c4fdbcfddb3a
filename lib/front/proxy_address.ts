/**
 * Textual IP addresses for the PROXY protocol: parsing the dotted quads and
 * RFC 4291 groups a v1 line carries, and formatting addresses the way Deno
 * reports socket addresses (Rust's `Display` for `Ipv6Addr`), so that a
 * proxied address compares equal to the same client seen directly. Used by
 * both the v1 parser (text in) and the v2 parser (bytes in).
 *
 * @module
 */

/** §2.1 "TCP4": a dotted quad, no leading zeros (which some parsers read as octal). */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets = parts.map(parseOctet);
  return octets.every((o) => o !== undefined) ? octets as number[] : undefined;
}

/** A dec-octet 0-255 without leading zeros, or undefined. */
export function parseOctet(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 255 ? n : undefined;
}

/**
 * RFC 4291 §2.2: 1-4 hex digits per group, one `::` for one or more zero
 * groups, an optional dotted-quad tail.
 */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  const last = groups[groups.length - 1];
  const tail: number[] = [];
  if (last.length > 0 && last[last.length - 1].includes(".")) {
    const v4 = parseIpv4(last.pop()!);
    if (v4 === undefined) return undefined;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
  }
  const words = groups.map((g) =>
    g.map((w) => (/^[0-9A-Fa-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN))
  );
  if (words.some((g) => g.some(Number.isNaN))) return undefined;
  const explicit = words[0].length + (words[1]?.length ?? 0) + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const zeros = new Array<number>(8 - explicit).fill(0);
  return [...words[0], ...(halves.length === 2 ? zeros : []), ...(words[1] ?? []), ...tail];
}

/** Validates a v1 address of `family` and returns it in canonical form. */
export function formatIp(text: string, family: 4 | 6): string | undefined {
  if (family === 4) return parseIpv4(text)?.join(".");
  const words = parseIpv6(text);
  return words && formatIpv6(words);
}

/**
 * Formats eight 16-bit groups as Rust's `Ipv6Addr` does, since that is what Deno
 * reports for sockets: IPv4-mapped as `::ffff:a.b.c.d`, otherwise RFC 5952 §4:
 * lower case, no leading zeros, the first longest run of two or more zero
 * groups as `::`.
 */
export function formatIpv6(words: readonly number[]): string {
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${words[6] >> 8}.${words[6] & 0xff}.${words[7] >> 8}.${words[7] & 0xff}`;
  }
  let best = { at: 0, len: 0 };
  for (let i = 0, run = 0; i < 8; i++) {
    run = words[i] === 0 ? run + 1 : 0;
    if (run > best.len) best = { at: i - run + 1, len: run };
  }
  const hexes = (ws: readonly number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best.len < 2) return hexes(words);
  return `${hexes(words.slice(0, best.at))}::${hexes(words.slice(best.at + best.len))}`;
}
