/**
 * Property tests for request head parsing (lib/front/h1/request_head.ts):
 *
 * - byte-boundary splits: fixed valid heads, each followed by a pipelined
 *   request, read in two pieces cut at every byte (and one byte at a time)
 *   give the same head and end; fixed invalid ones give the same status
 *   whatever the split;
 * - round trips: random valid requests (every form, methods, hosts including
 *   IPv6, fields over the whole valid alphabets, framing, Connection, Expect,
 *   Upgrade) serialized and read back in random pieces parse to exactly what
 *   was generated;
 * - mutations: random byte edits of valid heads give a head, a RequestError
 *   or "need more bytes", never another exception; the same whatever the
 *   split; and the same verdict and head as a slow, regex-based reading of
 *   the rules written out separately here (so never a wrong accept).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { fractionArb, mutate, mutationArb as mutationArbOf } from "./_mutate.ts";
import {
  findRequestHeadEnd,
  parseRequestHead,
  RequestError,
  type RequestFraming,
  type RequestHead,
} from "../lib/front/h1/request_head.ts";
import type { HeaderPairs } from "../lib/core/transport.ts";
import { latin1Bytes, latin1Text } from "./_h1.ts";

/** What reading the first head of some bytes gave. */
type Outcome =
  | { readonly kind: "head"; readonly head: RequestHead; readonly end: number }
  | { readonly kind: "refused"; readonly status: number }
  | { readonly kind: "incomplete" };

/**
 * Reads the first head of `bytes` as a front would: the bytes arrive in
 * pieces ending at `cuts` (then at the end), each appended to one buffer
 * after `offset` bytes of an earlier request, and findRequestHeadEnd is asked
 * again after each. The buffer past what has arrived holds LF bytes, so a
 * finder that looked past `end` would be caught.
 */
function readHead(bytes: Uint8Array, cuts: readonly number[] = [], offset = 0): Outcome {
  const buf = new Uint8Array(offset + bytes.length).fill(0x0a);
  buf.fill(0x41, 0, offset);
  let from = 0;
  try {
    for (const to of [...cuts, bytes.length]) {
      buf.set(bytes.subarray(from, to), offset + from);
      from = to;
      const end = findRequestHeadEnd(buf, offset, offset + to);
      if (end !== -1) {
        return { kind: "head", head: parseRequestHead(buf, offset, end), end: end - offset };
      }
    }
    return { kind: "incomplete" };
  } catch (err) {
    if (err instanceof RequestError) return { kind: "refused", status: err.status };
    throw err;
  }
}

const NEXT = "GET /next HTTP/1.1\r\nHost: next\r\n\r\n";

/** Sorted distinct cut points strictly inside [0, n), from fractions of n. */
function cutPoints(fractions: readonly number[], n: number): number[] {
  const points = fractions.map((f) => Math.floor(f * n)).filter((p) => p > 0 && p < n);
  return [...new Set(points)].sort((a, b) => a - b);
}

/** Every index from 1 to n-1: the bytes one at a time. */
function everyByte(n: number): number[] {
  return Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
}

Deno.test("split: valid heads with a pipelined request read the same at every byte boundary", () => {
  const heads = [
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "\r\n\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 5\r\n" +
    "Expect: 100-continue\r\n\r\nhello",
    "POST / HTTP/1.1\r\nhost:[::1]:80\r\nTransfer-Encoding: ,\r\nTransfer-Encoding: ,chunked\r\n\r\n" +
    "0\r\n\r\n",
    "GET http://example.com?q HTTP/1.0\r\nX-Latin: caf\xe9\xff\r\nConnection: keep-alive\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Ws: \t v \t\r\nX-Empty:\r\n\r\n",
    "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
  ];
  for (const text of heads) {
    const bytes = latin1Bytes(text + NEXT);
    const whole = readHead(bytes);
    assert.equal(whole.kind, "head", text);
    for (let cut = 1; cut < bytes.length; cut++) {
      for (const offset of [0, 7]) {
        assert.deepEqual(
          readHead(bytes, [cut], offset),
          whole,
          `${JSON.stringify(text)} at ${cut}`,
        );
      }
    }
    assert.deepEqual(readHead(bytes, everyByte(bytes.length)), whole, "one byte at a time");
  }
});

Deno.test("split: invalid heads get the same status at every byte boundary", () => {
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400],
    ["GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n folded: x\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nX: y\r\n\r\n", 400],
    ["GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["GET /" + "a".repeat(8192) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414],
    ["GET / HTTP/1.1\r\nHost: a\r\n" + "X: y\r\n".repeat(100) + "\r\n", 431],
  ];
  for (const [text, status] of cases) {
    const bytes = latin1Bytes(text + NEXT);
    const expected = { kind: "refused", status };
    assert.deepEqual(readHead(bytes), expected, text.slice(0, 60));
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(
        readHead(bytes, [cut], 3),
        expected,
        `${JSON.stringify(text.slice(0, 60))} at ${cut}`,
      );
    }
    if (bytes.length < 1000) assert.deepEqual(readHead(bytes, everyByte(bytes.length)), expected);
  }
  // A head over 64 KiB: a 431 wherever the reads end, sampled (every split would take long).
  const big = latin1Bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + "b".repeat(70_000) + "\r\n\r\n");
  for (let cut = 1; cut < big.length; cut += 997) {
    assert.deepEqual(readHead(big, [cut]), { kind: "refused", status: 431 }, `at ${cut}`);
  }
});

// ---------------------------------------------------------------------------
// Generated requests.

/** `H1_PROPERTY_SCALE=20` multiplies every run count, for a long hunt; 1 keeps the suite fast. */
const SCALE = Number(Deno.env.get("H1_PROPERTY_SCALE") ?? "1") || 1;
const runs = (n: number) => Math.round(n * SCALE);

/** A position as a fraction of a length, spread evenly (fast-check biases doubles toward 0). */
const splitsArb = fc.array(fractionArb, { maxLength: 8 });

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const SPECIAL = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "expect",
]);
const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const nameArb = tokenArb.filter((n) => !SPECIAL.has(n.toLowerCase()));
/** Every field value byte (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text. */
const valueCharArb = fc.oneof(
  fc.constantFrom("\t", " "),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const owsArb = fc.string({ unit: fc.constantFrom(" ", "\t"), maxLength: 2 });
/** Target bytes: visible ASCII but "#". */
const targetCharArb = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x23)
  .map((c) => String.fromCharCode(c));
const pathArb = fc.string({ unit: targetCharArb, maxLength: 30 }).map((s) => "/" + s);

const hexArb = fc.integer({ min: 0, max: 0xffff }).chain((n) =>
  fc.boolean().map((upper) => upper ? n.toString(16).toUpperCase() : n.toString(16))
);
const ipv4Arb = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
  .map((a) => a.join("."));
/** An IPv6 address: eight pieces, perhaps a run of them as "::", perhaps an IPv4 tail. */
const ipv6Arb = fc.record({
  pieces: fc.array(hexArb, { minLength: 8, maxLength: 8 }),
  ipv4: fc.option(ipv4Arb),
  from: fc.nat({ max: 8 }),
  length: fc.nat({ max: 8 }),
}).map(({ pieces, ipv4, from, length }) => {
  const p: string[] = ipv4 === null ? pieces : [...pieces.slice(0, 6), ipv4];
  const n = p.length === 8 ? 8 : 7;
  const a = Math.min(from, n);
  // The run "::" stands for, at least one piece, none of them the IPv4 tail.
  const b = Math.min(a + length, ipv4 === null ? 8 : 6);
  const text = b > a ? `${p.slice(0, a).join(":")}::${p.slice(b).join(":")}` : p.join(":");
  return `[${text}]`;
});
const REG_NAME_CHARS =
  "-._~!$&'()*+;=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const regNameArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...REG_NAME_CHARS), minLength: 1, maxLength: 20 }),
  fc.constantFrom("example.com", "localhost", "%41b"),
);
const uriHostArb = fc.oneof(regNameArb, ipv4Arb, ipv6Arb);
const portArb = fc.integer({ min: 0, max: 65535 }).map(String);
const hostArb = fc.tuple(uriHostArb, fc.option(portArb)).map(([h, p]) =>
  p === null ? h : `${h}:${p}`
);

/** The request line's method, target and what the target is expected to be. */
interface LineSpec {
  readonly method: string;
  readonly target: string;
  readonly form: RequestHead["form"];
  readonly path: string;
}

const methodArb = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"),
  tokenArb.filter((m) => m !== "CONNECT"),
);
const lineArb: fc.Arbitrary<LineSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(methodArb, pathArb).map(([method, target]) => ({
      method,
      target,
      form: "origin" as const,
      path: target,
    })),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      method: methodArb,
      scheme: fc.constantFrom("http", "https", "HTTP", "Https"),
      host: hostArb,
      rest: fc.oneof(
        fc.constant(""),
        pathArb,
        fc.string({ unit: targetCharArb, maxLength: 10 }).map((q) => "?" + q),
      ),
    }).map(({ method, scheme, host, rest }) => ({
      method,
      target: `${scheme}://${host}${rest}`,
      form: "absolute" as const,
      path: rest === "" ? (method === "OPTIONS" ? "*" : "/") : rest[0] === "?" ? "/" + rest : rest,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(uriHostArb, portArb).map(([h, p]) => ({
      method: "CONNECT",
      target: `${h}:${p}`,
      form: "authority" as const,
      path: `${h}:${p}`,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constant({
      method: "OPTIONS",
      target: "*",
      form: "asterisk" as const,
      path: "*",
    }),
  },
);

/** A valid request head to generate. */
interface HeadSpec {
  readonly leading: number;
  readonly line: LineSpec;
  readonly minor: 0 | 1;
  /** Every field line: name as sent, value, padding before and after. */
  readonly fields: readonly (readonly [string, string, string, string])[];
  readonly expected: Omit<RequestHead, keyof LineSpec | "minor">;
}

/** Where to put a field among the others. */
const slotArb = fc.nat();
const connectionArb = fc.array(
  fc.constantFrom("close", "Close", "keep-alive", "Keep-Alive", "upgrade", "Upgrade", "x-other"),
  { maxLength: 3 },
);

const specArb: fc.Arbitrary<HeadSpec> = fc.record({
  leading: fc.nat({ max: 2 }),
  line: lineArb,
  minor: fc.constantFrom(0 as const, 1 as const),
  others: fc.array(
    fc.tuple(nameArb, fc.string({ unit: valueCharArb, maxLength: 20 }), owsArb, owsArb),
    { maxLength: 8 },
  ),
  host: fc.option(fc.tuple(fc.constantFrom("Host", "host", "HOST"), hostArb, slotArb), { freq: 5 }),
  framing: fc.oneof(
    fc.constant(null),
    fc.tuple(fc.constant("Content-Length"), fc.nat({ max: 1e9 }).map(String), slotArb),
    fc.tuple(
      fc.constant("Transfer-Encoding"),
      fc.constantFrom("chunked", "Chunked", "CHUNKED"),
      slotArb,
    ),
  ),
  connection: fc.option(fc.tuple(connectionArb, slotArb)),
  upgrade: fc.option(fc.tuple(fc.constantFrom("websocket", "h2c", "foo/1"), slotArb)),
  expect: fc.option(fc.tuple(fc.constantFrom("100-continue", "100-Continue"), slotArb)),
}).map((r): HeadSpec => {
  // HTTP/1.1 needs Host; Transfer-Encoding (filtered out below) needs HTTP/1.1.
  const minor = r.host === null ? 0 : r.minor;
  const fields: [string, string, string, string][] = r.others.map(([n, v, a, b]) => [n, v, a, b]);
  const place = (name: string, value: string, slot: number) =>
    fields.splice(slot % (fields.length + 1), 0, [name, value, " ", ""]);
  if (r.host) place(r.host[0], r.host[1], r.host[2]);
  if (r.framing) place(r.framing[0], r.framing[1], r.framing[2]);
  if (r.connection) place("Connection", r.connection[0].join(", "), r.connection[1]);
  if (r.upgrade) place("Upgrade", r.upgrade[0], r.upgrade[1]);
  if (r.expect) place("Expect", r.expect[0], r.expect[1]);
  const tokens = (r.connection?.[0] ?? []).map((t) => t.toLowerCase());
  const framing: RequestFraming = r.framing === null
    ? { kind: "none" }
    : r.framing[0] === "Content-Length"
    ? { kind: "length", length: Number(r.framing[1]) }
    : { kind: "chunked" };
  return {
    leading: r.leading,
    line: r.line,
    minor,
    fields,
    expected: {
      fields: fields.map((
        [n, v],
      ): [string, string] => [n.toLowerCase(), v.replace(/^[ \t]+|[ \t]+$/g, "")]),
      host: r.host?.[1] ?? null,
      framing,
      keepAlive: !tokens.includes("close") && (minor === 1 || tokens.includes("keep-alive")),
      expectContinue: r.expect !== null && minor === 1,
      upgrade: r.upgrade && tokens.includes("upgrade") && minor === 1 ? r.upgrade[0] : undefined,
    },
  };
}).filter((s) => !(s.minor === 0 && s.expected.framing.kind === "chunked"));

function serialize(spec: HeadSpec): string {
  let text = "\r\n".repeat(spec.leading);
  text += `${spec.line.method} ${spec.line.target} HTTP/1.${spec.minor}\r\n`;
  for (const [name, value, before, after] of spec.fields) {
    text += `${name}:${before}${value}${after}\r\n`;
  }
  return text + "\r\n";
}

Deno.test("property: generated valid heads read in random pieces parse to what was generated", () => {
  fc.assert(
    fc.property(specArb, splitsArb, fc.nat({ max: 9 }), (spec, splits, offset) => {
      const text = serialize(spec);
      const bytes = latin1Bytes(text + NEXT);
      const outcome = readHead(bytes, cutPoints(splits, bytes.length), offset);
      assert.deepEqual(outcome, {
        kind: "head",
        end: text.length,
        head: { ...spec.line, minor: spec.minor, ...spec.expected },
      });
    }),
    { numRuns: runs(1000) },
  );
});

// ---------------------------------------------------------------------------
// Mutations, against a reading of the rules written independently.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REG_NAME = /^(?:[-._~!$&'()*+;=0-9A-Za-z]|%[0-9A-Fa-f]{2})+$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** uri-host [":" port], IPv6 checked by the WHATWG URL parser (RFC 3986 for what we accept). */
function oracleHost(s: string, portRequired: boolean): boolean {
  const m = /^(?:\[([0-9A-Fa-f:.]*)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(s);
  if (!m || (portRequired && m[3] === undefined) || Number(m[3] ?? 0) > 65535) return false;
  if (m[2] !== undefined) return REG_NAME.test(m[2]);
  const v6 = m[1];
  if (!v6.includes(":") || /(^|:)[0-9A-Fa-f]{5}/.test(v6)) return false;
  const tail = /:([0-9.]+)$/.exec(v6);
  if (tail && tail[1].includes(".") && !IPV4.test(tail[1])) return false;
  try {
    new URL(`http://[${v6}]/`);
    return true;
  } catch {
    return false;
  }
}

function oracleForm(method: string, target: string): Pick<RequestHead, "form" | "path"> | null {
  if (method !== "CONNECT" && target.startsWith("/")) return { form: "origin", path: target };
  if (target === "*") return method === "OPTIONS" ? { form: "asterisk", path: "*" } : null;
  if (method === "CONNECT") {
    return oracleHost(target, true) ? { form: "authority", path: target } : null;
  }
  const m = /^https?:\/\/([^/?]*)(.*)$/i.exec(target);
  if (!m || !oracleHost(m[1], false)) return null;
  const rest = m[2];
  const path = rest === ""
    ? (method === "OPTIONS" ? "*" : "/")
    : rest[0] === "?"
    ? "/" + rest
    : rest;
  return { form: "absolute", path };
}

function list(values: string[]): string[] {
  return values.join(",").split(",").map((t) => t.replace(/^[ \t]+|[ \t]+$/g, ""));
}

/** The framing by the rules, or null for a refusal. */
function oracleFraming(minor: 0 | 1, fields: HeaderPairs): RequestFraming | null {
  const lengths = fields.filter(([n]) => n === "content-length").map(([, v]) => v.split(","));
  const codings = fields.filter(([n]) => n === "transfer-encoding").map(([, v]) => v);
  const all = lengths.flat().map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""));
  if (!all.every((v) => /^\d{1,15}$/.test(v)) || new Set(all.map(Number)).size > 1) return null;
  if (codings.length === 0) {
    return all.length ? { kind: "length", length: Number(all[0]) } : { kind: "none" };
  }
  if (all.length || minor === 0) return null;
  const elements = list(codings).filter((c) => c !== "");
  if (elements.length === 0 || !elements.every((c) => TOKEN.test(c))) return null;
  const lower = elements.map((c) => c.toLowerCase());
  if (lower.at(-1) !== "chunked" || lower.filter((c) => c === "chunked").length > 1) return null;
  return lower.length === 1 ? { kind: "chunked" } : null;
}

/** What the rules say the first head of `bytes` is, by regular expressions over the text. */
function oracle(bytes: Uint8Array): "incomplete" | "refused" | { head: RequestHead; end: number } {
  const text = latin1Text(bytes);
  let start = 0;
  while (text.startsWith("\r\n", start)) start += 2;
  const empty = text.indexOf("\r\n\r\n", start);
  const end = empty === -1 ? text.length : empty + 4;
  if (/\r[^\n]|(?<!\r)\n|\0/.test(text.slice(0, end))) return "refused";
  if (empty === -1) return "incomplete";
  const [requestLine, ...lines] = text.slice(start, empty).split("\r\n");
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21\x22\x24-\x7e]+) HTTP\/1\.([01])$/.exec(
    requestLine,
  );
  if (!m || lines.length > 100) return "refused";
  const [, method, target] = m;
  const minor = m[3] === "1" ? 1 : 0;
  const form = oracleForm(method, target);
  if (!form) return "refused";
  const fields: HeaderPairs = [];
  for (const line of lines) {
    const f = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!f || !/^[\t\x20-\x7e\x80-\xff]*$/.test(f[2])) return "refused";
    fields.push([f[1].toLowerCase(), f[2]]);
  }
  const values = (name: string) => fields.filter(([n]) => n === name).map(([, v]) => v);
  const hosts = values("host");
  if (hosts.length > 1 || (hosts.length === 0 && minor === 1)) return "refused";
  if (hosts.length === 1 && !oracleHost(hosts[0], false)) return "refused";
  const framing = oracleFraming(minor, fields);
  if (!framing) return "refused";
  const connection = list(values("connection")).map((t) => t.toLowerCase());
  const upgrades = values("upgrade");
  const head: RequestHead = {
    method,
    target,
    ...form,
    minor,
    fields,
    host: hosts[0] ?? null,
    framing,
    keepAlive: !connection.includes("close") && (minor === 1 || connection.includes("keep-alive")),
    expectContinue: minor === 1 &&
      list(values("expect")).some((e) => e.toLowerCase() === "100-continue"),
    upgrade:
      minor === 1 && connection.includes("upgrade") && upgrades.length && upgrades.join(", ") !== ""
        ? upgrades.join(", ")
        : undefined,
  };
  return { head, end };
}

const mutationArb = mutationArbOf([
  0x0d,
  0x0a,
  0x20,
  0x09,
  0x3a,
  0x00,
  0x7f,
  0x2c,
  0x23,
  0x2f,
  0x5b,
  0x5d,
  0x3b,
  0x40,
]);

/** Checks `bytes` against the oracle, whole and in the given pieces. */
function checkAgainstOracle(bytes: Uint8Array, cuts: readonly number[]): void {
  // readHead lets anything but a RequestError propagate, which fails the property.
  const whole = readHead(bytes);
  assert.deepEqual(readHead(bytes, cuts, 5), whole, "the same however the bytes arrived");
  const expected = oracle(bytes);
  if (expected === "incomplete" || expected === "refused") {
    assert.equal(whole.kind, expected);
  } else {
    assert.deepEqual(whole, { kind: "head", ...expected });
  }
}

Deno.test("property: the oracle agrees with the parser on valid heads", () => {
  fc.assert(
    fc.property(specArb, (spec) => {
      const bytes = latin1Bytes(serialize(spec) + NEXT);
      assert.notEqual(typeof oracle(bytes), "string");
      checkAgainstOracle(bytes, []);
    }),
    { numRuns: runs(300) },
  );
});

Deno.test("property: mutated heads give a head, a RequestError or need more bytes, as the rules say", () => {
  fc.assert(
    fc.property(
      specArb,
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      splitsArb,
      (spec, edits, splits) => {
        const bytes = mutate(latin1Bytes(serialize(spec) + NEXT), edits);
        checkAgainstOracle(bytes, cutPoints(splits, bytes.length));
      },
    ),
    { numRuns: runs(1000) },
  );
});

Deno.test("property: arbitrary bytes give a head, a RequestError or need more bytes, as the rules say", () => {
  const byteArb = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(...latin1Bytes("GET / HTTP/1.1\r\n\r\nHost: a:1[]")),
  );
  const prefixArb = fc.constantFrom(
    "",
    "GET / HTTP/1.1\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n",
    "\r\n",
  );
  fc.assert(
    fc.property(
      prefixArb,
      fc.array(byteArb, { maxLength: 60 }),
      splitsArb,
      (prefix, tail, splits) => {
        const bytes = Uint8Array.from([...latin1Bytes(prefix), ...tail]);
        checkAgainstOracle(bytes, cutPoints(splits, bytes.length));
      },
    ),
    { numRuns: runs(1000) },
  );
});
