/**
 * Version 2 of the PROXY protocol (proxy-protocol.txt §2.2): a 12-byte
 * signature, version and command, family, a big-endian length, then the
 * address block and TLVs. Checked field by field as the bytes arrive, and
 * bounded by {@link MAX_PROXY_HEADER_BYTES} before the length is trusted,
 * so a peer can't make us buffer 64 KiB before the first request.
 *
 * @module
 */

import {
  hex,
  MAX_PROXY_HEADER_BYTES,
  MORE,
  type ProxiedAddress,
  type ProxyHeaderResult,
  ProxyProtocolError,
} from "./proxy_header_result.ts";
import { formatIpv6 } from "./proxy_address.ts";

/** The 12 bytes every v2 header starts with (§2.2); its first, CR, tells v2 from v1. */
export const V2_SIGNATURE = Uint8Array.from("\r\n\r\n\0\r\nQUIT\n", (c) => c.charCodeAt(0));
const V2_FIXED = 16;
const V2_MAX_LENGTH = MAX_PROXY_HEADER_BYTES - V2_FIXED;
/** Address block sizes by the 14th byte, for the stream families we proxy; 0x00 is AF_UNSPEC. */
const V2_ADDRESS_BYTES = new Map([[0x00, 0], [0x11, 12], [0x21, 36], [0x31, 216]]);

/**
 * A v2 header at `buf[start, end)` (`buf[start]` is CR): the header and the
 * index past its TLVs, or {@link MORE} while the bytes so far are a valid
 * prefix. Throws {@link ProxyProtocolError} at the first field that makes
 * it invalid or puts it over {@link MAX_PROXY_HEADER_BYTES}.
 */
export function parseV2(buf: Uint8Array, start: number, end: number): ProxyHeaderResult {
  const have = end - start;
  for (let i = 0; i < Math.min(have, V2_SIGNATURE.length); i++) {
    if (buf[start + i] !== V2_SIGNATURE[i]) {
      throw new ProxyProtocolError(`not a PROXY header: byte ${i} is 0x${hex(buf[start + i])}`);
    }
  }
  if (have <= 12) return MORE;
  const verCmd = buf[start + 12];
  if (verCmd >> 4 !== 2) {
    throw new ProxyProtocolError(`PROXY v2: version ${verCmd >> 4}, expected 2`);
  }
  const local = (verCmd & 0xf) === 0;
  // §2.2: "Receivers must drop connections presenting unexpected values here."
  if (!local && (verCmd & 0xf) !== 1) {
    throw new ProxyProtocolError(
      `PROXY v2: command ${verCmd & 0xf}, expected 0 (LOCAL) or 1 (PROXY)`,
    );
  }
  if (have <= 13) return MORE;
  // §2.2: for LOCAL the receiver must "discard the protocol block including the family
  // which is ignored"; for PROXY, undefined values "must be rejected as invalid".
  const famByte = buf[start + 13];
  const addressBytes = local ? 0 : V2_ADDRESS_BYTES.get(famByte);
  if (addressBytes === undefined) {
    const what = (famByte & 0xf) === 2
      ? "datagram transport; only streams are proxied"
      : "undefined";
    throw new ProxyProtocolError(`PROXY v2: family/transport 0x${hex(famByte)} is ${what}`);
  }
  if (have <= 14) return MORE;
  // The high length byte alone can already put the length over our limit.
  if (buf[start + 14] > V2_MAX_LENGTH >> 8) throw tooLong(buf[start + 14] << 8, "at least ");
  if (have <= 15) return MORE;
  const length = (buf[start + 14] << 8) | buf[start + 15];
  if (length > V2_MAX_LENGTH) throw tooLong(length, "");
  if (length < addressBytes) {
    throw new ProxyProtocolError(
      `PROXY v2: length ${length} is shorter than the ${addressBytes}-byte address block`,
    );
  }
  // Whatever follows the address block is TLVs (§2.2), skipped unread: the length says where they end.
  if (have < V2_FIXED + length) return MORE;
  const size = local ? 0 : famByte === 0x11 ? 4 : famByte === 0x21 ? 16 : 0;
  const address = size === 0 ? undefined : v2Address(buf, start + V2_FIXED, size);
  return { kind: "header", end: start + V2_FIXED + length, address };
}

/** §2.2 (`struct proxy_hdr_v2`): source and destination address, then their ports, big-endian. */
function v2Address(buf: Uint8Array, at: number, size: 4 | 16): ProxiedAddress {
  const ip = (from: number) =>
    size === 4 ? buf.subarray(from, from + 4).join(".") : formatIpv6(
      Array.from({ length: 8 }, (_, i) => (buf[from + 2 * i] << 8) | buf[from + 2 * i + 1]),
    );
  const ports = at + 2 * size;
  return {
    sourceIp: ip(at),
    sourcePort: (buf[ports] << 8) | buf[ports + 1],
    destIp: ip(at + size),
    destPort: (buf[ports + 2] << 8) | buf[ports + 3],
  };
}

function tooLong(length: number, qualifier: string): ProxyProtocolError {
  return new ProxyProtocolError(
    `PROXY v2: length ${qualifier}${length}, over our limit of ${V2_MAX_LENGTH} bytes`,
  );
}
