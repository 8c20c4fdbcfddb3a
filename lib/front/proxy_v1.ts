/**
 * Version 1 of the PROXY protocol (proxy-protocol.txt §2.1): one text line,
 * `PROXY TCP4|TCP6|UNKNOWN ...` ending in CRLF within 107 bytes. The line is
 * validated as it arrives, so bytes that can no longer become a valid line
 * are refused at once rather than left to wait for a CRLF.
 *
 * @module
 */

import {
  MORE,
  type ProxiedAddress,
  type ProxyHeaderResult,
  ProxyProtocolError,
} from "./proxy_header_result.ts";
import { formatIp, parseOctet } from "./proxy_address.ts";

const CR = 0x0d;
const LF = 0x0a;

/** How every v1 header starts; its first byte, "P", tells v1 from v2. */
export const V1_SIGNATURE = "PROXY ";
/** §2.1: "If the CRLF sequence is not found in the first 107 characters, [...] invalid." */
const V1_MAX_LINE = 107;
const V1_PROTOCOLS = ["TCP4 ", "TCP6 ", "UNKNOWN"] as const;
const V1_FIELDS = ["source address", "destination address", "source port", "destination port"];

/**
 * A v1 header at `buf[start, end)` (`buf[start]` is "P"): the header and
 * the index past its CRLF, or {@link MORE} while the line so far is a valid
 * prefix. Throws {@link ProxyProtocolError} at the first byte that makes it
 * invalid.
 */
export function parseV1(buf: Uint8Array, start: number, end: number): ProxyHeaderResult {
  let i = start;
  let sawCr = false;
  for (; i < end; i++) {
    const c = buf[i];
    if (c === LF) throw new ProxyProtocolError("PROXY v1: LF without CR");
    if (c === CR) {
      if (i + 1 < end && buf[i + 1] !== LF) throw new ProxyProtocolError("PROXY v1: CR without LF");
      sawCr = true;
      break;
    }
    // The CR may sit at offset 105 at most, so that CRLF ends at 107 bytes.
    if (i - start >= V1_MAX_LINE - 2) {
      throw new ProxyProtocolError(`PROXY v1: line longer than ${V1_MAX_LINE} bytes`);
    }
  }
  // With a CR seen the line is final even while its LF is still in flight.
  const address = checkV1Line(String.fromCharCode(...buf.subarray(start, i)), sawCr);
  if (!sawCr || i + 1 >= end) return MORE;
  return { kind: "header", end: i + 2, address };
}

/** Validates the line (or, when not `final`, the line so far); the address once final. */
function checkV1Line(line: string, final: boolean): ProxiedAddress | undefined {
  const sig = line.slice(0, V1_SIGNATURE.length);
  if (!V1_SIGNATURE.startsWith(sig) || (final && sig !== V1_SIGNATURE)) {
    throw new ProxyProtocolError(`not a PROXY header: ${JSON.stringify(line.slice(0, 16))}`);
  }
  const rest = line.slice(V1_SIGNATURE.length);
  const protocol = V1_PROTOCOLS.find((p) => rest.startsWith(p));
  if (protocol === undefined) {
    if (!final && V1_PROTOCOLS.some((p) => p.startsWith(rest))) return undefined;
    throw new ProxyProtocolError(
      `PROXY v1: expected "TCP4 ", "TCP6 " or "UNKNOWN" after "PROXY ", got ${
        JSON.stringify(rest.slice(0, 8))
      }`,
    );
  }
  // §2.1: after UNKNOWN "the receiver must ignore anything presented before the CRLF".
  if (protocol === "UNKNOWN") return undefined;
  const family = protocol === "TCP4 " ? 4 : 6;
  const fields = rest.slice(protocol.length).split(" ");
  if (fields.length > 4 || (final && fields.length < 4)) {
    throw new ProxyProtocolError(
      `PROXY v1: ${fields.length} fields after TCP${family}, expected 4 separated by single spaces`,
    );
  }
  const values: (string | number | undefined)[] = fields.map((text, n) => {
    const value = n < 2 ? formatIp(text, family) : parsePort(text);
    // A field still being received may be empty or shorter, not wrong.
    const pending = !final && n === fields.length - 1;
    if (value === undefined && !(pending && viableField(text, n < 2 ? family : 0))) {
      throw new ProxyProtocolError(
        `PROXY v1: invalid TCP${family} ${V1_FIELDS[n]} ${JSON.stringify(text)}`,
      );
    }
    return value;
  });
  if (!final) return undefined;
  const [sourceIp, destIp, sourcePort, destPort] = values as [string, string, number, number];
  return { sourceIp, sourcePort, destIp, destPort };
}

/** §2.1: ports are decimal 0-65535 without leading zeros. */
function parsePort(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

/**
 * Whether `text` can still grow into a valid field (family 0 is a port).
 * Exact for ports and IPv4, where a valid prefix is empty or valid itself;
 * for IPv6 only the alphabet and length, since the line limit bounds the wait.
 */
function viableField(text: string, family: 0 | 4 | 6): boolean {
  if (text === "") return true;
  if (family === 0) return parsePort(text) !== undefined;
  if (family === 6) return /^[0-9A-Fa-f:.]{1,45}$/.test(text) && !text.includes(":::");
  const parts = text.split(".");
  return parts.length <= 4 &&
    parts.every((p, n) => parseOctet(p) !== undefined || n === parts.length - 1 && p === "");
}
