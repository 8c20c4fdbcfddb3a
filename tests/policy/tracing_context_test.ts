/**
 * W3C Trace Context rules as pure functions: strict `traceparent` reading
 * (the cases of the W3C test suite: case, zeros, version ff, future
 * versions, trailing data, whitespace), `tracestate` bounds, the sampling
 * decision on a fake random source, and random ids that are never zero.
 */

import assert from "node:assert/strict";
import {
  boundTracestate,
  formatTraceparent,
  parseTraceparent,
  sampleDecision,
  TRACESTATE_MAX_CHARS,
} from "../../lib/policy/trace_context.ts";
import { createTraceIds } from "../../lib/policy/trace_ids.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("traceparent: version 00 is read exactly; the sampled flag is bit 0", () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), {
    traceId: TRACE,
    parentId: SPAN,
    sampled: true,
    canonical: true,
  });
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
  // Other flag bits are kept out of what this lb sends: not canonical, so rewritten.
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-03`), {
    traceId: TRACE,
    parentId: SPAN,
    sampled: true,
    canonical: false,
  });
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled, false);
  // Optional whitespace around the value is not part of it.
  assert.equal(parseTraceparent(` \t00-${TRACE}-${SPAN}-01 `)?.traceId, TRACE);
});

Deno.test("traceparent: malformed values are invalid and the trace restarts", () => {
  const bad = [
    "",
    `00-${TRACE}-${SPAN}`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${TRACE}-${SPAN.toUpperCase()}-01`,
    `00-${TRACE}-${SPAN}-0A`,
    `0A-${TRACE}-${SPAN}-01`,
    `00-00000000000000000000000000000000-${SPAN}-01`,
    `00-${TRACE}-0000000000000000-01`,
    `ff-${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 ends after the flags
    `00-${TRACE}-${SPAN}-01x`,
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE.slice(1)}g-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-1`,
    `00-${TRACE}0-${SPAN}-01`.slice(0, 55),
    `cc-${TRACE}-${SPAN}-01.what`, // a later version must put "-" after the flags
  ];
  for (const value of bad) assert.equal(parseTraceparent(value), undefined, value);
});

Deno.test("traceparent: a future version is read for its first four parts", () => {
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`), {
    traceId: TRACE,
    parentId: SPAN,
    sampled: true,
    canonical: false,
  });
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-00`)?.sampled, false);
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-00`)?.canonical, false);
});

Deno.test("traceparent: what the lb sends is version 00 with only the sampled flag", () => {
  assert.equal(formatTraceparent(TRACE, SPAN, true), `00-${TRACE}-${SPAN}-01`);
  assert.equal(formatTraceparent(TRACE, SPAN, false), `00-${TRACE}-${SPAN}-00`);
  assert.deepEqual(parseTraceparent(formatTraceparent(TRACE, SPAN, false))?.canonical, true);
});

Deno.test("tracestate: valid lists pass unchanged, several fields join, invalid ones are dropped", () => {
  assert.equal(
    boundTracestate(["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]),
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
  );
  // Spacing is the client's and is kept as sent.
  assert.equal(boundTracestate(["a=1 , b=2"]), "a=1 , b=2");
  assert.equal(boundTracestate(["a=1", "b=2"]), "a=1,b=2");
  assert.equal(boundTracestate(["tenant@vendor=x,a-b_c*d/e=1"]), "tenant@vendor=x,a-b_c*d/e=1");
  assert.equal(boundTracestate(["a=1,,b=2"]), "a=1,,b=2"); // empty members are allowed
  assert.equal(boundTracestate([]), undefined);
  assert.equal(boundTracestate([" , "]), undefined);
  for (
    const bad of [
      "A=1",
      "a=1,a=2",
      "a",
      "=1",
      "a=",
      "a=b=c,d",
      "a=x\ty",
      "1a=x",
      "a=,b=2",
      "a=\u00e9",
    ]
  ) {
    assert.equal(boundTracestate([bad]), undefined, bad);
  }
  const members33 = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
  assert.equal(boundTracestate([members33]), undefined);
  const members32 = Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(",");
  assert.equal(boundTracestate([members32]), members32);
});

Deno.test("tracestate: over 512 characters, long members go first, then members from the end", () => {
  const long = `big=${"x".repeat(200)}`;
  const small = Array.from(
    { length: 20 },
    (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(10)}`,
  );
  const value = [small[0], long, ...small.slice(1), `big2=${"y".repeat(150)}`].join(",");
  assert.ok(value.length > TRACESTATE_MAX_CHARS);
  // Without the two long ones the list fits: every small member stays, in order.
  assert.equal(boundTracestate([value]), small.join(","));
  const many = Array.from(
    { length: 30 },
    (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`,
  );
  const cut = boundTracestate([many.join(",")])!;
  assert.ok(cut.length <= TRACESTATE_MAX_CHARS);
  assert.equal(cut, many.slice(0, cut.split(",").length).join(","));
  assert.ok(cut.length + 1 + many[0].length > TRACESTATE_MAX_CHARS, "as many as fit are kept");
});

Deno.test("sampling: a followed parent decides; a new trace takes the ratio, on the injected random source", () => {
  const parent = (sampled: boolean) => ({
    traceId: TRACE,
    parentId: SPAN,
    sampled,
    canonical: true,
  });
  const never = () => {
    throw new Error("random must not be called");
  };
  assert.equal(sampleDecision(parent(true), 0, never), true);
  assert.equal(sampleDecision(parent(false), 1, never), false);
  assert.equal(sampleDecision(undefined, 1, never), true);
  assert.equal(sampleDecision(undefined, 0, never), false);
  const draws = [0.1, 0.25, 0.2499, 0.9];
  let i = 0;
  const random = () => draws[i++];
  assert.deepEqual(draws.map(() => sampleDecision(undefined, 0.25, random)), [
    true,
    false,
    true,
    false,
  ]);
});

Deno.test("ids: hex of the right length from the byte source; an all-zero draw is drawn again", () => {
  let fills = 0;
  const ids = createTraceIds((b) => {
    fills++;
    // The first fill is all zeros (two zero span ids), the next counts up from 1.
    for (let i = 0; i < b.length; i++) b[i] = fills === 1 ? 0 : i + 1;
  }, 16);
  assert.equal(ids.spanId(), "0102030405060708");
  assert.equal(ids.spanId(), "090a0b0c0d0e0f10");
  assert.equal(fills, 2);
  const real = createTraceIds();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = real.traceId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(real.spanId(), /^[0-9a-f]{16}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 1000);
});
