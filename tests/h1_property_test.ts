/**
 * Property tests for the h1 transport. Random valid responses (any status
 * from 200 to 599 but 204 and 304, header names and values drawn from the
 * whole valid alphabets including obs-text, random bodies, Content-Length,
 * chunked with random chunk sizes, extensions and trailers, or
 * close-delimited, optionally after 103 interim heads) are serialized and read
 * back in random read splits:
 *
 * - purely, through head.ts and chunked.ts as H1Transport drives them;
 * - end to end, from a loopback server writing the same splits to
 *   H1Transport.request.
 *
 * Both must give exactly the status, the fields (lower-cased names, trimmed
 * values, in order, duplicates kept) and the body. Then random byte
 * mutations of valid responses must make H1Transport either answer or reject
 * with an UpstreamError, never throw anything else, hang or leak.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { fractionArb, mutate, mutationArb as mutationArbOf } from "./_mutate.ts";
import { ChunkedDecoder } from "../lib/http1/chunked.ts";
import { findHeadEnd, parseResponseHead, responseFraming } from "../lib/transport/h1/head.ts";
import { latin1, ParseError } from "../lib/http1/syntax.ts";
import { type HeaderPairs, UpstreamError } from "../lib/core/transport.ts";
import { concat } from "./_http.ts";
import {
  bodyBytes,
  CHUNKED_OFFSET_BUG,
  delay,
  h1,
  latin1Bytes,
  type Peer,
  upstreamRequest,
  wireServer,
  within,
} from "./_h1.ts";

/** How a generated response delimits its body. */
type FramingSpec =
  | { readonly kind: "length" }
  | { readonly kind: "close" }
  | {
    readonly kind: "chunked";
    /** Where the body is cut into chunks, as fractions of its length. */
    readonly cuts: readonly number[];
    /** Extension text per chunk (cycled), e.g. `;a=1`, or "". */
    readonly exts: readonly string[];
    readonly upperHex: boolean;
    readonly leadingZeros: number;
    readonly trailers: readonly (readonly [string, string])[];
  };

/** A valid response to generate. */
interface ResponseSpec {
  readonly version: "1.0" | "1.1";
  readonly status: number;
  /** Null: a status line without the space and reason. */
  readonly reason: string | null;
  /** Names as sent (any case); values as sent (may have surrounding whitespace). */
  readonly fields: readonly (readonly [string, string])[];
  /** How the framing field is spelled and where it goes among the fields. */
  readonly framingName: string;
  readonly framingAt: number;
  readonly body: Uint8Array;
  readonly framing: FramingSpec;
  /** `Link` values of 103 Early Hints heads sent first. */
  readonly interim: readonly string[];
}

/** `H1_PROPERTY_SCALE=20` multiplies every run count, for a long hunt; 1 keeps the suite fast. */
const SCALE = Number(Deno.env.get("H1_PROPERTY_SCALE") ?? "1") || 1;
const runs = (n: number) => Math.round(n * SCALE);

/** A position as a fraction of a length, spread evenly (fast-check biases doubles toward 0). */

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const FRAMING_NAMES = new Set(["content-length", "transfer-encoding"]);

const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const nameArb = tokenArb.filter((n) => !FRAMING_NAMES.has(n.toLowerCase()));
/** HTAB, SP, VCHAR and obs-text: every byte a field value or reason may hold (RFC 9110 §5.5). */
const valueCharArb = fc.oneof(
  fc.constantFrom("\t", " "),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const valueArb = fc.string({ unit: valueCharArb, maxLength: 30 });
const fieldArb = fc.tuple(nameArb, valueArb);
const extArb = fc.constantFrom("", ";a=1", ";name", ';q="x; y"', ';x="caf\xe9"', " ;bws=1");

/** Byte i is a position-dependent pattern, so a dropped or repeated slice shows. */
function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

const bodyArb = fc.oneof(
  { weight: 9, arbitrary: fc.uint8Array({ maxLength: 400, size: "max" }) },
  // Over 64 KiB: streamed by H1Transport instead of handed over as bytes.
  { weight: 1, arbitrary: fc.integer({ min: 64 * 1024 - 2, max: 70_000 }).map(pattern) },
);

const chunkedArb = fc.record({
  kind: fc.constant("chunked" as const),
  cuts: fc.array(fractionArb, { maxLength: 6 }),
  exts: fc.array(extArb, { minLength: 1, maxLength: 4 }),
  upperHex: fc.boolean(),
  leadingZeros: fc.integer({ min: 0, max: 3 }),
  trailers: fc.array(fieldArb, { maxLength: 3 }),
});

function specArb(framings: readonly FramingSpec["kind"][]): fc.Arbitrary<ResponseSpec> {
  const framingArb = fc.oneof(
    ...framings.map((k): fc.Arbitrary<FramingSpec> =>
      k === "chunked" ? chunkedArb : fc.constant({ kind: k })
    ),
  );
  return fc.record({
    version: fc.constantFrom("1.0" as const, "1.1" as const),
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    reason: fc.option(fc.string({ unit: valueCharArb, maxLength: 20 }), { freq: 5 }),
    fields: fc.array(fieldArb, { maxLength: 8 }),
    framingName: fc.constantFrom("Content-Length", "content-length", "CONTENT-length"),
    framingAt: fc.nat(),
    body: bodyArb,
    framing: framingArb,
    interim: fc.array(fc.constantFrom("</a.css>; rel=preload", "</b.js>"), { maxLength: 2 }),
  }).map((s) => s.framing.kind === "chunked" ? { ...s, version: "1.1" as const } : s);
}

/** The fields a parser must report: framing field placed, names lower-cased, values trimmed. */
function expectedFields(spec: ResponseSpec): HeaderPairs {
  const fields: [string, string][] = spec.fields.map(([n, v]) => [n, v]);
  const framingField: [string, string] | undefined = spec.framing.kind === "length"
    ? [spec.framingName, String(spec.body.length)]
    : spec.framing.kind === "chunked"
    ? ["Transfer-Encoding", "chunked"]
    : undefined;
  if (framingField) fields.splice(spec.framingAt % (fields.length + 1), 0, framingField);
  return fields.map(([n, v]) => [n.toLowerCase(), v.replace(/^[ \t]+|[ \t]+$/g, "")]);
}

/** Sorted distinct cut points strictly inside [0, n). */
function cutPoints(fractions: readonly number[], n: number): number[] {
  const points = fractions.map((f) => Math.floor(f * n)).filter((p) => p > 0 && p < n);
  return [...new Set(points)].sort((a, b) => a - b);
}

/** The response on the wire. */
function serialize(spec: ResponseSpec): Uint8Array {
  let head = "";
  for (const link of spec.interim) head += `HTTP/1.1 103 Early Hints\r\nLink: ${link}\r\n\r\n`;
  const reason = spec.reason === null ? "" : " " + spec.reason;
  head += `HTTP/${spec.version} ${spec.status}${reason}\r\n`;
  const wire: [string, string][] = spec.fields.map(([n, v]) => [n, v]);
  const f = spec.framing;
  if (f.kind === "length") {
    wire.splice(spec.framingAt % (wire.length + 1), 0, [
      spec.framingName,
      " " + spec.body.length,
    ]);
  }
  if (f.kind === "chunked") {
    wire.splice(spec.framingAt % (wire.length + 1), 0, ["Transfer-Encoding", " chunked"]);
  }
  for (const [n, v] of wire) head += `${n}:${v}\r\n`;
  head += "\r\n";
  if (f.kind !== "chunked") return concat([latin1Bytes(head), spec.body]);
  const parts: Uint8Array[] = [latin1Bytes(head)];
  const size = (n: number) => {
    const hex = "0".repeat(f.leadingZeros) + n.toString(16);
    return f.upperHex ? hex.toUpperCase() : hex;
  };
  const bounds = [0, ...cutPoints(f.cuts, spec.body.length), spec.body.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const data = spec.body.subarray(bounds[i], bounds[i + 1]);
    if (data.length === 0) continue;
    parts.push(latin1Bytes(`${size(data.length)}${f.exts[i % f.exts.length]}\r\n`), data);
    parts.push(latin1Bytes("\r\n"));
  }
  let last = `${size(0)}${f.exts[0]}\r\n`;
  for (const [n, v] of f.trailers) last += `${n}:${v}\r\n`;
  parts.push(latin1Bytes(last + "\r\n"));
  return concat(parts);
}

/** `bytes` cut at the given fractions of its length. */
function pieces(bytes: Uint8Array, fractions: readonly number[]): Uint8Array[] {
  const bounds = [0, ...cutPoints(fractions, bytes.length), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push(bytes.slice(bounds[i], bounds[i + 1]));
  return out;
}

/** What the pure reader found. */
interface PureResult {
  readonly status: number;
  readonly reason: string;
  readonly fields: HeaderPairs;
  readonly body: Uint8Array;
  /** Bytes after the message, unread. */
  readonly rest: Uint8Array;
}

/**
 * Reads one response from `reads` the way H1Transport does: one buffer, the
 * head searched from where it starts each time a read arrives, interim 1xx
 * heads skipped, then the body by its framing, the chunked decoder working
 * from an offset in that buffer up to the end of each read.
 */
function readPure(reads: Uint8Array[]): PureResult {
  const input = concat(reads);
  const ends: number[] = [];
  for (let n = 0, i = 0; i < reads.length; i++) ends.push(n += reads[i].length);
  let start = 0;
  let available = 0;
  let next = 0;
  for (;;) {
    let end = findHeadEnd(input, start, available);
    while (end === -1) {
      assert.ok(next < reads.length, "head incomplete at end of input");
      available = ends[next++];
      end = findHeadEnd(input, start, available);
    }
    const head = parseResponseHead(latin1(input, start, end));
    start = end;
    if (head.status < 200) continue;
    const framing = responseFraming(head, "GET");
    const result = { status: head.status, reason: head.reason, fields: head.fields };
    const after = input.subarray(start);
    switch (framing.kind) {
      case "none":
        return { ...result, body: new Uint8Array(0), rest: after };
      case "length":
        assert.ok(after.length >= framing.length, "body truncated");
        return {
          ...result,
          body: after.subarray(0, framing.length),
          rest: after.subarray(framing.length),
        };
      case "close":
        return { ...result, body: after, rest: new Uint8Array(0) };
      case "chunked": {
        const decoder = new ChunkedDecoder();
        const data: Uint8Array[] = [];
        let pos = start;
        for (const limit of [available, ...ends.slice(next)]) {
          if (decoder.done) break;
          pos += decoder.decode(input, pos, limit, (d) => data.push(d.slice()));
        }
        assert.ok(decoder.done, "chunked body incomplete");
        return { ...result, body: concat(data), rest: input.subarray(pos) };
      }
    }
  }
}

const splitsArb = fc.array(fractionArb, { maxLength: 12 });

Deno.test("property: valid responses read purely in random splits give status, fields and body", () => {
  const next = latin1Bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  fc.assert(
    fc.property(specArb(["length", "chunked", "close"]), splitsArb, (spec, splits) => {
      const message = serialize(spec);
      // A following response must be left unread (except after a close-delimited body).
      const wire = spec.framing.kind === "close" ? message : concat([message, next]);
      const r = readPure(pieces(wire, splits));
      assert.equal(r.status, spec.status);
      assert.equal(r.reason, spec.reason ?? "");
      assert.deepEqual(r.fields, expectedFields(spec));
      assert.deepEqual(r.body, spec.body);
      assert.deepEqual(r.rest, spec.framing.kind === "close" ? new Uint8Array(0) : next);
    }),
    { numRuns: runs(300) },
  );
});

/** Bytes a server writes, cut at fractions of their length. */
interface Written {
  readonly bytes: Uint8Array;
  readonly splits: readonly number[];
}

/** A server that answers each connection with `current()`'s bytes in its splits, then closes. */
function splitWriter(current: () => Written) {
  return wireServer(async (peer: Peer) => {
    const { bytes, splits } = current();
    if ((await peer.readHead()) === null) return;
    for (const piece of pieces(bytes, splits)) {
      await peer.write(piece);
      await delay(0);
    }
  });
}

async function endToEnd(framings: readonly FramingSpec["kind"][], numRuns: number) {
  let current: Written = { bytes: new Uint8Array(0), splits: [] };
  await using server = splitWriter(() => current);
  await fc.assert(
    fc.asyncProperty(specArb(framings), splitsArb, async (spec, splits) => {
      current = { bytes: serialize(spec), splits };
      await using transport = h1();
      const res = await within(
        transport.request(server.target, upstreamRequest()),
        10_000,
        "response",
      );
      assert.equal(res.status, spec.status);
      assert.deepEqual(res.headers, expectedFields(spec));
      assert.deepEqual(await within(bodyBytes(res.body), 10_000, "body"), spec.body);
    }),
    { numRuns: runs(numRuns) },
  );
}

Deno.test("property: H1Transport reads random valid responses written in random splits", async () => {
  await endToEnd(["length", "close"], 50);
});

Deno.test({
  // Skipped, rather than hanging the process, if CHUNKED_OFFSET_BUG returns (see _h1.ts).
  name: "property: H1Transport reads random valid chunked responses written in random splits",
  ignore: CHUNKED_OFFSET_BUG,
  async fn() {
    await endToEnd(["chunked"], 50);
  },
});

const mutationArb = mutationArbOf([0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x7f, 0x30, 0x2c]);

/**
 * What reading the head of `bytes` purely says: "protocol" when the heads
 * are malformed (or a 101 nobody asked for), "reset" when the input ends
 * before a final head, else "head".
 */
function headOutcome(bytes: Uint8Array): "protocol" | "reset" | "head" {
  let start = 0;
  try {
    for (;;) {
      const end = findHeadEnd(bytes, start, bytes.length);
      if (end === -1) return "reset";
      const head = parseResponseHead(latin1(bytes, start, end));
      start = end;
      if (head.status === 101) return "protocol";
      if (head.status < 200) continue;
      responseFraming(head, "GET");
      return "head";
    }
  } catch (err) {
    if (err instanceof ParseError) return "protocol";
    throw err;
  }
}

async function mutations(framings: readonly FramingSpec["kind"][], numRuns: number) {
  let current: Written = { bytes: new Uint8Array(0), splits: [] };
  await using server = splitWriter(() => current);
  await fc.assert(
    fc.asyncProperty(
      specArb(framings),
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      splitsArb,
      async (spec, edits, splits) => {
        const bytes = mutate(serialize(spec), edits);
        current = { bytes, splits };
        const expected = headOutcome(bytes);
        // The response timeout only guards against a hang: the server
        // closes after writing, so every read ends.
        await using transport = h1({ responseTimeoutMs: 500 });
        let outcome: string;
        try {
          const res = await within(
            transport.request(server.target, upstreamRequest()),
            5000,
            "response",
          );
          outcome = "head";
          assert.ok(res.status >= 200 && res.status <= 999, `status ${res.status}`);
          try {
            await within(bodyBytes(res.body), 5000, "body");
          } catch (err) {
            assert.ok(err instanceof UpstreamError, `body error ${err}`);
          }
        } catch (err) {
          assert.ok(err instanceof UpstreamError, `request error ${err}`);
          assert.ok(err.mayHaveReached);
          outcome = err.kind;
        }
        if (outcome === "response_timeout") return; // a stalled machine, not a verdict
        if (expected === "head") {
          // A well-formed head with a truncated body fails as a reset.
          assert.ok(outcome === "head" || outcome === "reset", `head → ${outcome}`);
        } else {
          assert.equal(outcome, expected);
        }
      },
    ),
    { numRuns: runs(numRuns) },
  );
}

Deno.test("property: mutated responses give an answer or an UpstreamError, nothing else", async () => {
  await mutations(["length", "close"], 100);
});

Deno.test({
  // Skipped, rather than hanging the process, if CHUNKED_OFFSET_BUG returns (see _h1.ts).
  name: "property: mutated chunked responses give an answer or an UpstreamError, nothing else",
  ignore: CHUNKED_OFFSET_BUG,
  async fn() {
    await mutations(["chunked"], 100);
  },
});
