/**
 * Fuzzing the h1 front through real sockets: one lb process (h1 front, all
 * client timeouts 1 s) in front of a recording backend.
 *
 * 1. Random valid requests (methods, targets, fields, no body, a
 *    Content-Length body or a chunked one with extensions and trailers),
 *    one to three pipelined on a connection and written in random pieces
 *    with small delays, each reach the backend with the same method, target,
 *    fields and body bytes, and are answered with the backend's 200.
 * 2. Random mutations of such streams (flip, insert or delete bytes, insert
 *    a framing-related line, truncate), 20 connections at a time, always end
 *    within a bound in well-formed HTTP/1.1 responses (or none) and a close
 *    by the lb: never a hang or a garbled reply. The backend reads exactly as
 *    many requests as clients get its answers to, so no request hides in
 *    another's body. After each batch a plain GET still succeeds, the lb's
 *    open client connections (lb_client_connections_open) return to 0 and
 *    the process is alive.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { startLb, waitFor } from "./_lb.ts";
import { exchangeRaw, metricValue, recordingBackend, type WireResult } from "./_front.ts";
import { latin1Text } from "./_h1.ts";

/** One generated request and what the backend must see of it. */
interface Generated {
  readonly method: string;
  readonly target: string;
  /** Extra fields as the backend gets them, names lower-cased (none the proxy rewrites or drops). */
  readonly fields: readonly [string, string][];
  /** The body's bytes as latin1 ("" for none). */
  readonly body: string;
  /** The request on the wire. */
  readonly wire: string;
}

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";

const chars = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });

const method = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE", "M-SEARCH"),
  chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, 10),
);

const segment = fc.oneof(
  chars(PCHAR, 0, 12),
  fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`),
);
const target = fc.tuple(
  fc.array(segment, { minLength: 1, maxLength: 5 }),
  fc.option(chars(PCHAR + "/?", 0, 30), { nil: undefined }),
).map(([segs, query]) => `/${segs.join("/")}${query === undefined ? "" : `?${query}`}`);

/** Field values: visible ASCII and obs-text, inner SP/HTAB, no leading or trailing whitespace. */
const value = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x21, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constantFrom(0x20, 0x09),
  ).map((c) => String.fromCharCode(c)),
  maxLength: 40,
}).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""));

/** `x-f-` names can't collide with any field the proxy treats specially. */
const field = fc.tuple(chars(TCHAR, 1, 12), value).map((
  [name, v],
): [string, string] => [`x-f-${name}`, v]);

/** Body bytes: mostly small, sometimes past the front's 64 KiB reads (a pattern, so cheap to make). */
const bytes = fc.oneof(
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3000 }).map(latin1Text), weight: 9 },
  {
    arbitrary: fc.tuple(fc.integer({ min: 64 * 1024, max: 200 * 1024 }), fc.nat(255)).map((
      [n, seed],
    ) => latin1Text(Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff))),
    weight: 1,
  },
);

const extension = fc.constantFrom("", ";a", ";a=b", ' ; q="x;y\\"z"', ";n=1;m");
const trailer = fc.tuple(chars(TCHAR, 1, 10), value).map(([n, v]) => `X-T-${n}: ${v}\r\n`);

/** How the body is framed, and the framing fields to send. */
const body = fc.oneof(
  fc.constant({ body: "", framing: [] as string[], encoded: "" }),
  bytes.map((b) => ({ body: b, framing: [`Content-Length: ${b.length}`], encoded: b })),
  fc.tuple(
    bytes,
    fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 6 }),
    fc.array(extension, { minLength: 7, maxLength: 7 }),
    fc.array(trailer, { maxLength: 3 }),
    fc.boolean(),
  ).map(([b, sizes, exts, trailers, upper]) => {
    let encoded = "";
    let at = 0;
    for (let i = 0; at < b.length; i++) {
      const chunk = b.slice(at, at + sizes[i % sizes.length]);
      at += chunk.length;
      const hex = chunk.length.toString(16);
      encoded += `${upper ? hex.toUpperCase() : hex}${exts[i % exts.length]}\r\n${chunk}\r\n`;
    }
    encoded += `0${exts[6]}\r\n${trailers.join("")}\r\n`;
    return { body: b, framing: ["Transfer-Encoding: chunked"], encoded };
  }),
);

const request: fc.Arbitrary<Generated> = fc.record({
  method,
  target,
  fields: fc.array(field, { maxLength: 8 }),
  framed: body,
}).map(({ method, target, fields, framed }) => ({
  method,
  target,
  fields: fields.map(([n, v]): [string, string] => [n.toLowerCase(), v]),
  body: framed.body,
  wire: [
    `${method} ${target} HTTP/1.1`,
    "Host: fuzz.example",
    ...fields.map(([n, v]) => `${n}: ${v}`),
    ...framed.framing,
    "",
    "",
  ].join("\r\n") + framed.encoded,
}));

/** One to three requests pipelined on a connection. */
const pipeline = fc.array(request, { minLength: 1, maxLength: 3 });

/** `wire` cut into writes at the fractions `cuts` of its length. */
function pieces(wire: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * wire.length)))]
    .filter((c) => c > 0 && c < wire.length).sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of [...at, wire.length]) {
    out.push(wire.slice(from, c));
    from = c;
  }
  return out;
}

/**
 * A fraction in [0, 1), drawn uniformly: fast-check's doubles lean hard
 * towards 0 (1e-300 and the like), which would put every cut and edit on
 * the first byte.
 */
const fraction = fc.noBias(fc.integer({ min: 0, max: 9999 })).map((n) => n / 10_000);
const cuts = fc.array(fraction, { maxLength: 6 });

/** An edit of a stream, at a fraction of its length. */
type Mutation =
  | { readonly op: "flip"; readonly at: number; readonly mask: number }
  | { readonly op: "insert"; readonly at: number; readonly byte: number }
  | { readonly op: "line"; readonly at: number; readonly text: string }
  | { readonly op: "delete"; readonly at: number; readonly count: number }
  | { readonly op: "truncate"; readonly at: number };

/** Bytes that matter to HTTP framing are inserted more often than others. */
const interesting = fc.oneof(
  fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x22, 0x30, 0x66, 0x7f, 0xff),
  fc.integer({ min: 0, max: 255 }),
);
/** Lines that change how a message is framed or routed, as smuggling attempts use them. */
const framingLine = fc.constantFrom(
  "\r\nTransfer-Encoding: chunked",
  "\r\nContent-Length: 0",
  "\r\nContent-Length: 5",
  "\r\nTransfer-Encoding: chunked, identity",
  "\r\n Transfer-Encoding: chunked",
  "\r\nHost: other.example",
  "\r\nExpect: 100-continue",
  "\r\nConnection: close",
  "\r\n\r\n",
  "\r\n0\r\n\r\n",
  "GET /inner HTTP/1.1\r\nHost: x\r\n\r\n",
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("flip" as const),
    at: fraction,
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ op: fc.constant("insert" as const), at: fraction, byte: interesting }),
  fc.record({ op: fc.constant("line" as const), at: fraction, text: framingLine }),
  fc.record({
    op: fc.constant("delete" as const),
    at: fraction,
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fraction }),
).map((m) => m as Mutation);

function mutate(wire: string, mutations: readonly Mutation[]): string {
  let s = wire;
  for (const m of mutations) {
    const i = Math.floor(m.at * s.length);
    const c = (b: number) => String.fromCharCode(b);
    if (m.op === "flip") s = s.slice(0, i) + c(s.charCodeAt(i) ^ m.mask) + s.slice(i + 1);
    else if (m.op === "insert") s = s.slice(0, i) + c(m.byte) + s.slice(i);
    else if (m.op === "line") s = s.slice(0, i) + m.text + s.slice(i);
    else if (m.op === "delete") s = s.slice(0, i) + s.slice(i + m.count);
    else s = s.slice(0, i);
  }
  return s;
}

const mutated = fc.tuple(
  pipeline,
  fc.array(mutation, { minLength: 1, maxLength: 4 }),
  cuts,
).map(([reqs, ms, cs]) => {
  const wire = mutate(reqs.map((r) => r.wire).join(""), ms);
  return { wire, pieces: pieces(wire, cs) };
});

/**
 * Client timeouts (header, idle, body) are 1 s on wheels ticking every
 * 125 ms, so a connection the lb has to close itself closes about 1.1 s
 * after its last byte (measured: at most 1.13 s over 480 streams). The
 * bound leaves room for a machine loaded by the other test files; the
 * defaults (10 s, 60 s) would blow it, so would a missing deadline.
 */
const CLOSE_BOUND_MS = 3000;
const LB_FLAGS = [
  "--front",
  "h1",
  "--client-header-timeout",
  "1s",
  "--client-idle-timeout",
  "1s",
  "--client-body-timeout",
  "1s",
];

/** Describes a stream for a failure message. */
const show = (wire: string) => JSON.stringify(wire.length > 600 ? `${wire.slice(0, 600)}…` : wire);

/** Asserts that what came back is well-formed HTTP/1.1 responses and then a close. */
function assertWellEnded(result: WireResult, wire: string): void {
  const what = `for ${show(wire)}, got ${show(result.raw)}`;
  assert.ok(result.closed, `the lb closed the connection within ${CLOSE_BOUND_MS} ms ${what}`);
  assert.equal(result.malformed, undefined, `well-formed responses ${what}`);
  assert.equal(result.rest, "", `no partial response ${what}`);
  assert.ok(result.responses.every((r) => r.minor === 1), `HTTP/1.1 responses ${what}`);
}

Deno.test("front fuzz: the h1 front through real sockets", async (t) => {
  await using backend = recordingBackend();
  await using lb = await startLb([backend.origin], LB_FLAGS);
  let exited = false;
  lb.proc.status.then(() => exited = true);

  await t.step("random valid requests, written in random pieces, go upstream exactly", async () => {
    await fc.assert(
      fc.asyncProperty(pipeline, cuts, fc.integer({ min: 0, max: 3 }), async (reqs, cs, ms) => {
        backend.clear();
        const wire = reqs.map((r) => r.wire).join("");
        const result = await exchangeRaw(lb.port, pieces(wire, cs), {
          responses: reqs.length,
          delayMs: ms,
          timeoutMs: 5000,
        });
        const what = `for ${show(wire)}, got ${show(result.raw)}`;
        assert.equal(result.malformed, undefined, what);
        assert.deepEqual(
          result.responses.map((r) => [r.status, r.body]),
          reqs.map(() => [200, "ok"]),
          what,
        );
        assert.equal(backend.requests.length, reqs.length, what);
        reqs.forEach((r, i) => {
          const got = backend.requests[i];
          assert.equal(got.line, `${r.method} ${r.target} HTTP/1.1`, what);
          assert.equal(got.body, r.body, what);
          assert.deepEqual(got.fields.filter(([n]) => n.startsWith("x-f-")), r.fields, what);
          assert.deepEqual(
            got.fields.filter(([n]) => n === "host"),
            [["host", "fuzz.example"]],
            what,
          );
        });
      }),
      { numRuns: 150 },
    );
  });

  await t.step("mutated streams get well-formed answers or a close, never a hang", async () => {
    let batches = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutated, { minLength: 20, maxLength: 20 }), async (streams) => {
        batches++;
        backend.clear();
        const results = await Promise.all(
          streams.map((s) =>
            exchangeRaw(lb.port, s.pieces, { delayMs: 2, timeoutMs: CLOSE_BOUND_MS })
          ),
        );
        results.forEach((r, i) => assertWellEnded(r, streams[i].wire));
        // Every request the backend read whole was answered to a client: had the
        // lb framed a body differently from how it read it, the backend would
        // find a request inside it (or lose one) and the counts would part.
        const answered = results.flatMap((r) => r.responses)
          .filter((r) => r.fields.some(([n]) => n === "x-backend")).length;
        assert.equal(backend.requests.length, answered, "requests the backend read, answered");
        // The lb keeps serving, lets go of every connection, and is still running.
        const ok = await exchangeRaw(
          lb.port,
          ["GET /after HTTP/1.1\r\nHost: fuzz.example\r\n\r\n"],
          {
            responses: 1,
            timeoutMs: 5000,
          },
        );
        assert.deepEqual(
          ok.responses.map((r) => r.status),
          [200],
          `a plain GET after batch ${batches}`,
        );
        await waitFor(
          async () => (await metricValue(lb.adminUrl, "lb_client_connections_open")) === 0,
          3000,
          "lb_client_connections_open to return to 0",
        );
        assert.ok(!exited, "the lb process is alive");
      }),
      { numRuns: 10, endOnFailure: true },
    );
  });
});
