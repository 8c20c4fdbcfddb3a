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
 * @module
 */

/**
 * The addresses a PROXY header carries. A header without them (v1 UNKNOWN, v2
 * LOCAL, AF_UNSPEC, AF_UNIX) gives `address: undefined`: use the socket's own.
 */
export interface ProxiedAddress {
  /** The client: IPv4 dotted quad, or IPv6 compressed lower case without brackets, as Deno has it. */
  readonly sourceIp: string;
  /** The client's port, 0-65535. */
  readonly sourcePort: number;
  /** The address the client connected to (the balancer's listener), in the same form. */
  readonly destIp: string;
  /** The port the client connected to. */
  readonly destPort: number;
}

/** A connection whose first bytes are not a PROXY header we accept; the caller closes it. */
export class ProxyProtocolError extends Error {
  /** `message` says which rule the bytes broke and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyProtocolError";
  }
}

/**
 * Longest header we accept: a v1 line is at most 107 bytes (§2.1), a v2 header
 * at most 16 + 65535; we allow v2 headers up to this many bytes (TLVs are
 * skipped), so a peer cannot make us buffer 64 KiB before the first request.
 */
export const MAX_PROXY_HEADER_BYTES: number = 16 + 4096;

/** What {@linkcode parseProxyHeader} found. */
export type ProxyHeaderResult =
  | { readonly kind: "more" }
  | { readonly kind: "header"; readonly end: number; readonly address: ProxiedAddress | undefined };

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

const MORE = Object.freeze({ kind: "more" } as const);
const CR = 0x0d;
const LF = 0x0a;

// --- version 1 (§2.1) --------------------------------------------------------

const V1_SIGNATURE = "PROXY ";
/** §2.1: "If the CRLF sequence is not found in the first 107 characters, [...] invalid." */
const V1_MAX_LINE = 107;
const V1_PROTOCOLS = ["TCP4 ", "TCP6 ", "UNKNOWN"] as const;
const V1_FIELDS = ["source address", "destination address", "source port", "destination port"];

function parseV1(buf: Uint8Array, start: number, end: number): ProxyHeaderResult {
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

// --- addresses ---------------------------------------------------------------

/** §2.1 "TCP4": a dotted quad, no leading zeros (which some parsers read as octal). */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets = parts.map(parseOctet);
  return octets.every((o) => o !== undefined) ? octets as number[] : undefined;
}

function parseOctet(text: string): number | undefined {
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
function formatIp(text: string, family: 4 | 6): string | undefined {
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
function formatIpv6(words: readonly number[]): string {
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

// --- version 2 (§2.2) --------------------------------------------------------

const V2_SIGNATURE = Uint8Array.from("\r\n\r\n\0\r\nQUIT\n", (c) => c.charCodeAt(0));
const V2_FIXED = 16;
const V2_MAX_LENGTH = MAX_PROXY_HEADER_BYTES - V2_FIXED;
/** Address block sizes by the 14th byte, for the stream families we proxy; 0x00 is AF_UNSPEC. */
const V2_ADDRESS_BYTES = new Map([[0x00, 0], [0x11, 12], [0x21, 36], [0x31, 216]]);

function parseV2(buf: Uint8Array, start: number, end: number): ProxyHeaderResult {
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

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
