/**
 * The PROXY protocol (HAProxy's "proxy-protocol.txt", versions 1 and 2): the
 * header a layer-4 balancer in front of us sends first on each connection so
 * that we learn the client's address instead of the balancer's.
 *
 * {@linkcode parseProxyHeader} is a pure, incremental function over bytes:
 * the caller reads, calls again with the same `start` while it gets
 * `"more"`, and forwards whatever follows the header. It says "more" only
 * while the bytes can still become a header, so a client that sends
 * anything else is refused at its first diverging byte rather than left
 * waiting for a timeout.
 *
 * Addresses are reported the way Deno reports socket addresses (Rust's
 * `Display` for `Ipv6Addr`: RFC 5952 compression, lower case, and
 * IPv4-mapped addresses as `::ffff:a.b.c.d`), so a proxied address compares
 * equal to the same client seen directly.
 *
 * The two versions are parsed in `proxy_v1.ts` (text) and `proxy_v2.ts`
 * (binary), the addresses in `proxy_address.ts`, and the types and error
 * they share live in `proxy_header_result.ts`; this module tells the
 * versions apart by their first byte and is the one callers import.
 *
 * @module
 */

import { hex, MORE, type ProxyHeaderResult, ProxyProtocolError } from "./proxy_header_result.ts";
import { parseV1, V1_SIGNATURE } from "./proxy_v1.ts";
import { parseV2, V2_SIGNATURE } from "./proxy_v2.ts";

export {
  MAX_PROXY_HEADER_BYTES,
  type ProxiedAddress,
  type ProxyHeaderResult,
  ProxyProtocolError,
} from "./proxy_header_result.ts";

/**
 * Looks for a PROXY header at `buf[start, end)`.
 *
 * Returns `{ kind: "more" }` while the bytes so far are a valid prefix of a v1
 * or v2 header (read more, call again with the same `start`), and
 * `{ kind: "header", end, address }` once a whole header is there: `end` is the
 * index past it, `address` is `undefined` for v1 `UNKNOWN`, v2 `LOCAL`, and v2
 * `AF_UNSPEC`/`AF_UNIX`. Throws {@linkcode ProxyProtocolError} for anything
 * else, including bytes that are no PROXY header at all, as soon as the first
 * byte diverging from both signatures arrives.
 */
export function parseProxyHeader(buf: Uint8Array, start: number, end: number): ProxyHeaderResult {
  if (!(0 <= start && start <= end && end <= buf.length)) {
    throw new RangeError(`invalid range [${start}, ${end}) of a ${buf.length}-byte buffer`);
  }
  if (start === end) return MORE;
  if (buf[start] === V2_SIGNATURE[0]) return parseV2(buf, start, end);
  if (buf[start] === V1_SIGNATURE.charCodeAt(0)) return parseV1(buf, start, end);
  throw new ProxyProtocolError(`not a PROXY header: first byte 0x${hex(buf[start])}`);
}
