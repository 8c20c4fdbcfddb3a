/**
 * Tests for the PROXY protocol parser: fixed vectors for each rule of
 * HAProxy's spec (v1 §2.1, v2 §2.2) and each malformation, byte-at-a-time
 * feeding (every prefix is "more" until the header is complete, and a bad
 * header throws no later than its last byte), and properties: generated
 * valid headers round trip, IPv6 text agrees with the WHATWG URL parser, and
 * mutated headers only ever give "more", a header inside the buffer, or a
 * ProxyProtocolError.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MAX_PROXY_HEADER_BYTES,
  parseProxyHeader,
  type ProxiedAddress,
  ProxyProtocolError,
} from "../lib/front/proxy_protocol.ts";

// --- helpers -----------------------------------------------------------------

type Outcome =
  | { readonly kind: "more" }
  | { readonly kind: "header"; readonly end: number; readonly address: ProxiedAddress | undefined }
  | { readonly kind: "error"; readonly message: string };

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Parses `buf[start, end)`; a ProxyProtocolError becomes an outcome, anything else escapes. */
function outcome(buf: Uint8Array, start = 0, end = buf.length): Outcome {
  try {
    return parseProxyHeader(buf, start, end);
  } catch (e) {
    if (e instanceof ProxyProtocolError) return { kind: "error", message: e.message };
    throw e;
  }
}

/**
 * Feeds `buf[start..]` one byte more at a time and checks the sequence of outcomes is
 * "more"*, then the same header or the same kind of error to the end. Returns the
 * final outcome and the byte count at which it was first reached.
 */
function feed(buf: Uint8Array, start = 0): { final: Outcome; at: number } {
  let at = -1;
  let first: Outcome | undefined;
  for (let end = start; end <= buf.length; end++) {
    const got = outcome(buf, start, end);
    if (first === undefined) {
      if (got.kind !== "more") [first, at] = [got, end - start];
    } else if (first.kind === "error") {
      assert.equal(got.kind, "error", `error at ${at} bytes, then ${got.kind} at ${end - start}`);
    } else {
      assert.deepEqual(got, first, `header at ${at} bytes, then something else at ${end - start}`);
    }
  }
  return { final: first ?? { kind: "more" }, at };
}

function v2(verCmd: number, fam: number, body: number[] | Uint8Array, length = body.length) {
  return concat(SIG, [verCmd, fam, length >> 8, length & 0xff], body);
}

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const addr = (sourceIp: string, sourcePort: number, destIp: string, destPort: number) => ({
  sourceIp,
  sourcePort,
  destIp,
  destPort,
});
const port = (p: number) => [p >> 8, p & 0xff];
const ipv6Bytes = (words: number[]) => words.flatMap(port);
const HTTP = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

/** Canonical IPv6 text, independently: WHATWG URL's, but IPv4-mapped dotted as Deno has them. */
function canonical6(ip: string): string {
  const host = new URL(`http://[${ip}]`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (m === null) return host;
  const [hi, lo] = [parseInt(m[1], 16), parseInt(m[2], 16)];
  return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

// --- valid headers -----------------------------------------------------------

const MAX_V1_TCP6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff " +
  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n";
const FULL = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

const VALID: [string, Uint8Array, ProxiedAddress | undefined][] = [
  [
    "v1 TCP4",
    bytes("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
    addr("192.168.0.1", 56324, "192.168.0.11", 443),
  ],
  [
    "v1 TCP4 extremes",
    bytes("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
    addr("0.0.0.0", 0, "255.255.255.255", 65535),
  ],
  [
    "v1 TCP6 normalised to lower-case compressed",
    bytes("PROXY TCP6 2001:DB8:0:0:0:0:0:1 0000:0000::0001 1 2\r\n"),
    addr("2001:db8::1", 1, "::1", 2),
  ],
  [
    "v1 TCP6 first longest zero run compressed, single zero groups kept",
    bytes("PROXY TCP6 1:0:0:2:0:0:3:4 1:0:2:0:3:0:4:0 80 443\r\n"),
    addr("1::2:0:0:3:4", 80, "1:0:2:0:3:0:4:0", 443),
  ],
  [
    "v1 TCP6 IPv4-mapped, dotted or hex, reported dotted",
    bytes("PROXY TCP6 ::ffff:10.0.0.1 0:0:0:0:0:FFFF:a00:2 80 443\r\n"),
    addr("::ffff:10.0.0.1", 80, "::ffff:10.0.0.2", 443),
  ],
  [
    "v1 TCP6 other embedded IPv4 reported hex",
    bytes("PROXY TCP6 ::1.2.3.4 64:ff9b::192.0.2.33 80 443\r\n"),
    addr("::102:304", 80, "64:ff9b::c000:221", 443),
  ],
  [
    "v1 TCP6 longest line (104 bytes)",
    bytes(MAX_V1_TCP6),
    addr(FULL, 65535, FULL.slice(0, -1) + "e", 65535),
  ],
  ["v1 UNKNOWN", bytes("PROXY UNKNOWN\r\n"), undefined],
  ["v1 UNKNOWN with addresses", bytes("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), undefined],
  ["v1 UNKNOWN with any bytes", bytes("PROXY UNKNOWNgarbage\x00\xff\t\r\n"), undefined],
  ["v1 UNKNOWN of exactly 107 bytes", bytes(`PROXY UNKNOWN ${"x".repeat(91)}\r\n`), undefined],
  [
    "v2 PROXY INET",
    v2(0x21, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, ...port(80), ...port(443)]),
    addr("1.2.3.4", 80, "5.6.7.8", 443),
  ],
  [
    "v2 PROXY INET with TLVs",
    v2(0x21, 0x11, [10, 0, 0, 1, 255, 255, 255, 255, 0, 0, 255, 255, 0x04, 0x00, 0x01, 0x07]),
    addr("10.0.0.1", 0, "255.255.255.255", 65535),
  ],
  [
    "v2 PROXY INET6",
    v2(0x21, 0x21, [
      ...ipv6Bytes([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
      ...ipv6Bytes([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]),
      ...port(1),
      ...port(2),
    ]),
    addr("2001:db8::1", 1, "::ffff:1.2.3.4", 2),
  ],
  [
    "v2 PROXY INET6 with TLVs",
    v2(0x21, 0x21, [
      ...ipv6Bytes([0, 0, 0, 0, 0, 0, 0, 0]),
      ...ipv6Bytes([0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0]),
      ...port(8080),
      ...port(8443),
      ...[0x01, 0x00, 0x02, 0x68, 0x32],
    ]),
    addr("::", 8080, "fe80::abcd:0:0:0", 8443),
  ],
  ["v2 LOCAL", v2(0x20, 0x00, []), undefined],
  ["v2 LOCAL ignores INET addresses", v2(0x20, 0x11, new Array(12).fill(9)), undefined],
  // §2.2: LOCAL must "discard the protocol block including the family which is ignored".
  ["v2 LOCAL ignores the family byte", v2(0x20, 0xff, [1, 2, 3]), undefined],
  ["v2 PROXY UNSPEC with TLVs", v2(0x21, 0x00, [0x05, 0x00, 0x02, 0xab, 0xcd]), undefined],
  ["v2 PROXY UNIX stream", v2(0x21, 0x31, new Array(216).fill(0x2f)), undefined],
  [
    "v2 length at our limit",
    v2(0x21, 0x11, new Array(MAX_PROXY_HEADER_BYTES - 16).fill(0)),
    addr("0.0.0.0", 0, "0.0.0.0", 0),
  ],
];

for (const [name, header, address] of VALID) {
  Deno.test(`valid: ${name}`, () => {
    assert.deepEqual(outcome(header), { kind: "header", end: header.length, address });
  });

  Deno.test(`valid, byte at a time: ${name}`, () => {
    const { final, at } = feed(concat(header, HTTP));
    assert.equal(at, header.length);
    assert.deepEqual(final, { kind: "header", end: header.length, address });
  });

  Deno.test(`valid, after other bytes in the buffer: ${name}`, () => {
    const buf = concat(bytes("junk"), header, HTTP);
    const { final } = feed(buf, 4);
    assert.deepEqual(final, { kind: "header", end: 4 + header.length, address });
    assert.deepEqual(buf.subarray(4 + header.length), HTTP);
  });
}

// --- malformed headers -------------------------------------------------------

const V1 = "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n";
const v1With = (field: number, value: string) => {
  const parts = V1.slice(0, -2).split(" ");
  parts[field + 2] = value;
  return bytes(parts.join(" ") + "\r\n");
};
const v6With = (field: number, value: string) => {
  const parts = "PROXY TCP6 ::1 ::2 80 443".split(" ");
  parts[field + 2] = value;
  return bytes(parts.join(" ") + "\r\n");
};
const INET = [1, 2, 3, 4, 5, 6, 7, 8, 0, 80, 1, 187];

/** [name, bytes, message pattern, bytes at which it must first throw (default: any, up to all)]. */
const INVALID: [string, Uint8Array, RegExp, number?][] = [
  ["HTTP request", bytes("GET / HTTP/1.1\r\n\r\n"), /not a PROXY header: first byte 0x47/, 1],
  ["TLS ClientHello", Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00), /not a PROXY header/, 1],
  ["lower-case proxy", bytes("proxy TCP4 1.2.3.4 5.6.7.8 80 443\r\n"), /not a PROXY header/, 1],
  ["PROXX", bytes("PROXX TCP4 1.2.3.4 5.6.7.8 80 443\r\n"), /not a PROXY header/, 5],
  ["PROXY alone", bytes("PROXY\r\n"), /not a PROXY header/, 6],
  [
    "double space after PROXY",
    bytes("PROXY  TCP4 1.2.3.4 5.6.7.8 80 443\r\n"),
    /expected "TCP4 "/,
    7,
  ],
  ["TCP5", bytes("PROXY TCP5 1.2.3.4 5.6.7.8 80 443\r\n"), /got "TCP5 1.2"/, 10],
  ["UDP4", bytes("PROXY UDP4 1.2.3.4 5.6.7.8 80 443\r\n"), /expected "TCP4 "/, 8],
  ["TCP4 without addresses", bytes("PROXY TCP4\r\n"), /got "TCP4"/, 11],
  ["three fields", bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n"), /3 fields after TCP4/, 30],
  ["five fields", bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80 443 1\r\n"), /5 fields/, 34],
  ["trailing space", bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80 443 \r\n"), /5 fields/, 34],
  ["two spaces between fields", bytes("PROXY TCP4 1.2.3.4  5.6.7.8 80 443\r\n"), /5 fields/, 20],
  ["tab separator", bytes("PROXY TCP4 1.2.3.4\t5.6.7.8 80 443\r\n"), /3 fields/, 19],
  ["IPv4 leading zero", v1With(0, "01.2.3.4"), /source address "01.2.3.4"/, 13],
  ["IPv4 octet over 255", v1With(0, "1.2.3.256"), /source address/, 20],
  ["IPv4 with three octets", v1With(1, "5.6.7"), /destination address "5.6.7"/, 25],
  ["IPv4 with five octets", v1With(0, "1.2.3.4.5"), /source address/, 19],
  ["IPv4 empty octet", v1With(0, "1.2..4"), /source address/, 16],
  ["IPv4 negative octet", v1With(0, "1.2.3.-4"), /source address/, 18],
  ["IPv4 in hex", v1With(0, "0x1.2.3.4"), /source address/, 13],
  ["IPv6 address under TCP4", v1With(0, "::1"), /source address "::1"/, 12],
  ["IPv4 address under TCP6", v6With(1, "5.6.7.8"), /TCP6 destination address "5.6.7.8"/],
  ["port with leading zero", v1With(2, "080"), /source port "080"/, 29],
  ["port 65536", v1With(3, "65536"), /destination port "65536"/, 35],
  ["port with sign", v1With(2, "+80"), /source port/, 28],
  ["port in hex", v1With(2, "0x50"), /source port/, 29],
  ["port with exponent", v1With(3, "1e3"), /destination port/, 32],
  ["empty port", v1With(3, ""), /destination port ""/],
  ["IPv6 seven groups", v6With(0, "1:2:3:4:5:6:7"), /source address/],
  ["IPv6 nine groups", v6With(0, "1:2:3:4:5:6:7:8:9"), /source address/],
  ["IPv6 :: with eight groups", v6With(0, "1:2:3:4::5:6:7:8"), /source address/],
  ["IPv6 two ::", v6With(0, "1::2::3"), /source address/],
  ["IPv6 :::", v6With(0, ":::1"), /source address/, 14],
  ["IPv6 leading single colon", v6With(0, ":1::2"), /source address/],
  ["IPv6 trailing single colon", v6With(0, "1::2:"), /source address/],
  ["IPv6 five hex digits", v6With(0, "12345::"), /source address/],
  ["IPv6 non-hex digit", v6With(0, "g::1"), /source address/, 12],
  ["IPv6 zone", v6With(0, "fe80::1%eth0"), /source address/, 19],
  ["IPv6 in brackets", v6With(0, "[::1]"), /source address/, 12],
  ["IPv6 short IPv4 tail", v6With(0, "::ffff:1.2.3"), /source address/],
  ["IPv6 IPv4 tail with leading zero", v6With(0, "::ffff:01.2.3.4"), /source address/],
  ["IPv6 IPv4 tail too many groups", v6With(0, "1:2:3:4:5:6:7:1.2.3.4"), /source address/],
  ["IPv6 IPv4 not last", v6With(0, "::1.2.3.4:1"), /source address/],
  ["LF without CR", bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n"), /LF without CR/, 34],
  ["LF early", bytes("PROX\n"), /LF without CR/, 5],
  ["CR without LF", bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\rX"), /CR without LF/, 35],
  ["CR without LF in UNKNOWN", bytes("PROXY UNKNOWN\r\r\n"), /CR without LF/, 15],
  ["UNKNOWN of 108 bytes", bytes(`PROXY UNKNOWN ${"x".repeat(92)}\r\n`), /longer than 107/, 106],
  [
    "TCP6 line over 107 bytes",
    bytes(
      `PROXY TCP6 ${"0000:".repeat(6)}255.255.255.255 ${"0000:".repeat(6)}255.255.255.255 1 2\r\n`,
    ),
    /longer than 107/,
    106,
  ],
  ["UNKNOWN without end", bytes(`PROXY UNKNOWN ${"x".repeat(300)}`), /longer than 107/, 106],
  ["v2 version 1", v2(0x11, 0x11, INET), /version 1, expected 2/, 13],
  ["v2 version 3", v2(0x31, 0x11, INET), /version 3/, 13],
  ["v2 command 2", v2(0x22, 0x11, INET), /command 2, expected 0 \(LOCAL\) or 1 \(PROXY\)/, 13],
  ["v2 command 15", v2(0x2f, 0x11, INET), /command 15/, 13],
  ["v2 INET datagram", v2(0x21, 0x12, INET), /0x12 is datagram/, 14],
  ["v2 INET6 datagram", v2(0x21, 0x22, new Array(36).fill(0)), /0x22 is datagram/, 14],
  ["v2 UNIX datagram", v2(0x21, 0x32, new Array(216).fill(0)), /0x32 is datagram/, 14],
  ["v2 UNSPEC family, stream", v2(0x21, 0x01, INET), /0x01 is undefined/, 14],
  ["v2 INET, UNSPEC transport", v2(0x21, 0x10, INET), /0x10 is undefined/, 14],
  ["v2 INET, transport 3", v2(0x21, 0x13, INET), /0x13 is undefined/, 14],
  ["v2 family 4", v2(0x21, 0x41, INET), /0x41 is undefined/, 14],
  ["v2 INET length 11", v2(0x21, 0x11, INET.slice(0, 11)), /length 11 is shorter than the 12/, 16],
  ["v2 INET length 0", v2(0x21, 0x11, []), /length 0 is shorter/, 16],
  ["v2 INET6 length 35", v2(0x21, 0x21, new Array(35).fill(0)), /shorter than the 36/, 16],
  ["v2 UNIX length 215", v2(0x21, 0x31, new Array(215).fill(0)), /shorter than the 216/, 16],
  ["v2 length over our limit by one", v2(0x21, 0x11, INET, 4097), /length 4097, over/, 16],
  ["v2 length 0x1100", v2(0x21, 0x11, INET, 0x1100), /at least 4352/, 15],
  ["v2 length 65535", v2(0x21, 0x11, INET, 0xffff), /at least 65280/, 15],
];

for (const [name, header, message, at] of INVALID) {
  Deno.test(`invalid: ${name}`, () => {
    assert.throws(() => parseProxyHeader(header, 0, header.length), (e) => {
      assert.ok(e instanceof ProxyProtocolError, String(e));
      assert.match(e.message, message);
      return true;
    });
    const fed = feed(header);
    assert.equal(fed.final.kind, "error");
    assert.ok(fed.at <= header.length);
    if (at !== undefined) assert.equal(fed.at, at, "bytes read before the error");
  });
}

/** Every byte value at every signature position: a diverging byte throws the moment it arrives. */
function checkSignature(header: Uint8Array, length: number) {
  for (let i = 0; i < length; i++) {
    for (let byte = 0; byte < 256; byte++) {
      // At byte 0 either signature may start.
      if (byte === header[i] || (i === 0 && (byte === 0x50 || byte === 0x0d))) continue;
      const buf = Uint8Array.from(header);
      buf[i] = byte;
      assert.deepEqual(outcome(buf, 0, i), { kind: "more" });
      assert.equal(outcome(buf, 0, i + 1).kind, "error", `byte ${i} = 0x${byte.toString(16)}`);
    }
  }
}

Deno.test("invalid: any byte diverging from the v2 signature throws at once", () => {
  checkSignature(v2(0x21, 0x11, INET), SIG.length);
});

Deno.test("invalid: any byte diverging from `PROXY ` throws at once", () => {
  checkSignature(bytes(V1), "PROXY ".length);
});

// --- the range arguments -----------------------------------------------------

Deno.test("an empty range is a valid prefix", () => {
  assert.deepEqual(parseProxyHeader(new Uint8Array(0), 0, 0), { kind: "more" });
  assert.deepEqual(parseProxyHeader(bytes("xx"), 1, 1), { kind: "more" });
});

Deno.test("bytes past `end` are not looked at", () => {
  const buf = concat(bytes("PROXY TCP4 1.2.3.4 5.6.7.8 80 44"), bytes("3\r\n"));
  assert.deepEqual(parseProxyHeader(buf, 0, buf.length - 3), { kind: "more" });
});

Deno.test("a range outside the buffer is a RangeError, not a protocol error", () => {
  const buf = bytes(V1);
  assert.throws(() => parseProxyHeader(buf, 0, buf.length + 1), RangeError);
  assert.throws(() => parseProxyHeader(buf, -1, 3), RangeError);
  assert.throws(() => parseProxyHeader(buf, 4, 3), RangeError);
});

// --- properties --------------------------------------------------------------

const arbPort = fc.integer({ min: 0, max: 0xffff });
const arbIpv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
/** Eight groups, zeros common so that compression has runs to find. */
const arbWords = fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), {
  minLength: 8,
  maxLength: 8,
});

/**
 * Any valid RFC 4291 §2.2 text for some `words`: any zero run compressed or
 * none, any case, any padding, maybe a dotted tail.
 */
const arbIpv6Text = arbWords.chain((words) =>
  fc.record({
    compress: fc.nat(8),
    upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    pad: fc.array(fc.nat(3), { minLength: 8, maxLength: 8 }),
    dotted: fc.boolean(),
  }).map(({ compress, upper, pad, dotted }) => {
    const texts = words.map((w, i) => {
      const h = w.toString(16);
      const t = "0".repeat(Math.max(0, Math.min(pad[i], 4 - h.length))) + h;
      return upper[i] ? t.toUpperCase() : t;
    });
    if (dotted) {
      texts.splice(
        6,
        2,
        [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join("."),
      );
    }
    // Compress the zero run starting at group `compress`, if there is one there.
    let len = 0;
    while (
      compress + len < texts.length && words[compress + len] === 0 &&
      !texts[compress + len].includes(".")
    ) len++;
    if (len === 0) return { words, text: texts.join(":") };
    const head = texts.slice(0, compress).join(":");
    const tail = texts.slice(compress + len).join(":");
    return { words, text: `${head}::${tail}` };
  })
);

const fullText = (words: number[]) => words.map((w) => w.toString(16)).join(":");

Deno.test("property: generated v1 TCP4 headers round trip", () => {
  fc.assert(
    fc.property(arbIpv4, arbIpv4, arbPort, arbPort, (src, dst, sp, dp) => {
      const line = `PROXY TCP4 ${src.join(".")} ${dst.join(".")} ${sp} ${dp}\r\n`;
      const buf = concat(bytes(line), HTTP);
      assert.deepEqual(feed(buf).final, {
        kind: "header",
        end: line.length,
        address: addr(src.join("."), sp, dst.join("."), dp),
      });
    }),
    { numRuns: 100 },
  );
});

Deno.test("property: generated v1 TCP6 headers round trip, or are too long", () => {
  fc.assert(
    fc.property(arbIpv6Text, arbIpv6Text, arbPort, arbPort, (src, dst, sp, dp) => {
      const line = `PROXY TCP6 ${src.text} ${dst.text} ${sp} ${dp}\r\n`;
      const got = feed(concat(bytes(line), HTTP)).final;
      if (line.length > 107) {
        assert.equal(got.kind, "error");
        return;
      }
      const [s, d] = [canonical6(fullText(src.words)), canonical6(fullText(dst.words))];
      assert.equal(canonical6(src.text), s);
      assert.deepEqual(got, { kind: "header", end: line.length, address: addr(s, sp, d, dp) });
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: v1 TCP6 accepts exactly the IPv6 text the WHATWG URL parser accepts", () => {
  const arbText = fc.string({
    unit: fc.constantFrom("0", "1", "a", "F", ":", ":", "."),
    maxLength: 24,
  });
  fc.assert(
    fc.property(arbText, (text) => {
      let expected: string | undefined;
      try {
        expected = canonical6(text);
      } catch {
        expected = undefined;
      }
      const line = bytes(`PROXY TCP6 ${text} ::1 1 2\r\n`);
      const got = outcome(line);
      if (expected === undefined) assert.equal(got.kind, "error", text);
      else {assert.deepEqual(got, {
          kind: "header",
          end: line.length,
          address: addr(expected, 1, "::1", 2),
        });}
    }),
    { numRuns: 500 },
  );
});

/** A valid v2 header of any command and family, with random TLV bytes, and what it must parse to. */
const arbV2 = fc.record({
  local: fc.boolean(),
  fam: fc.constantFrom(0x00, 0x11, 0x21, 0x31),
  localFam: fc.nat(255),
  block: fc.uint8Array({ minLength: 216, maxLength: 216 }),
  tlvs: fc.uint8Array({ maxLength: 64 }),
}).map(({ local, fam, localFam, block, tlvs }) => {
  const size = { 0x00: 0, 0x11: 12, 0x21: 36, 0x31: 216 }[fam]!;
  const header = v2(
    local ? 0x20 : 0x21,
    local ? localFam : fam,
    concat(block.subarray(0, size), tlvs),
  );
  const b = [...block];
  const be = (at: number) => (b[at] << 8) | b[at + 1];
  const ip6 = (at: number) =>
    canonical6(fullText(Array.from({ length: 8 }, (_, i) => be(at + 2 * i))));
  const address = local || fam === 0x00 || fam === 0x31
    ? undefined
    : fam === 0x11
    ? addr(b.slice(0, 4).join("."), be(8), b.slice(4, 8).join("."), be(10))
    : addr(ip6(0), be(32), ip6(16), be(34));
  return { header, address };
});

Deno.test("property: generated v2 headers round trip", () => {
  fc.assert(
    fc.property(arbV2, ({ header, address }) => {
      assert.deepEqual(feed(concat(header, HTTP)).final, {
        kind: "header",
        end: header.length,
        address,
      });
    }),
    { numRuns: 200 },
  );
});

const arbV1 = fc.oneof(
  fc.tuple(arbIpv4, arbIpv4, arbPort, arbPort).map(([s, d, sp, dp]) =>
    bytes(`PROXY TCP4 ${s.join(".")} ${d.join(".")} ${sp} ${dp}\r\n`)
  ),
  fc.tuple(arbIpv6Text, arbIpv6Text, arbPort, arbPort).map(([s, d, sp, dp]) =>
    bytes(`PROXY TCP6 ${s.text} ${d.text} ${sp} ${dp}\r\n`)
  ),
  fc.string({ maxLength: 40 }).map((s) => bytes(`PROXY UNKNOWN${s}\r\n`)),
);

type Mutation = { op: "set" | "insert" | "delete"; at: number; byte: number };
const arbMutations = fc.array(
  fc.record({
    op: fc.constantFrom("set", "insert", "delete"),
    at: fc.nat(),
    byte: fc.oneof(fc.nat(255), fc.constantFrom(0x0d, 0x0a, 0x20, 0x3a, 0x2e, 0x30, 0x00)),
  }) as fc.Arbitrary<Mutation>,
  { minLength: 1, maxLength: 4 },
);

function mutate(buf: Uint8Array, mutations: Mutation[]): Uint8Array {
  const b = [...buf];
  for (const { op, at, byte } of mutations) {
    const i = at % (b.length + 1);
    if (op === "insert") b.splice(i, 0, byte);
    else if (i < b.length) op === "set" ? (b[i] = byte) : b.splice(i, 1);
  }
  return Uint8Array.from(b);
}

Deno.test("property: mutations give more, a header within the buffer, or a ProxyProtocolError", () => {
  fc.assert(
    fc.property(
      fc.oneof(arbV1, arbV2.map((v) => v.header)),
      arbMutations,
      fc.nat(3),
      (header, mutations, skip) => {
        const buf = concat(new Array(skip).fill(0x50), mutate(concat(header, HTTP), mutations));
        // feed() lets anything but a ProxyProtocolError escape, and checks the outcomes stay put.
        const { final } = feed(buf, skip);
        if (final.kind !== "header") return;
        assert.ok(final.end > skip && final.end <= buf.length, `end ${final.end}`);
        // A header is self-delimiting: the same bytes alone give the same answer.
        assert.deepEqual(outcome(buf.subarray(0, final.end), skip), final);
      },
    ),
    { numRuns: 300 },
  );
});
