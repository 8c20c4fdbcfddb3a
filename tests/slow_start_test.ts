import assert from "node:assert/strict";
import fc from "fast-check";
import { MIN_SHARE, rampedWeight } from "../lib/pool/slow_start.ts";

Deno.test("MIN_SHARE is a tenth", () => {
  assert.equal(MIN_SHARE, 0.1);
});

Deno.test("rampedWeight: linear ramp over the window", () => {
  assert.equal(rampedWeight(10, 250, 1_000), 2.5);
  assert.equal(rampedWeight(10, 500, 1_000), 5);
  assert.equal(rampedWeight(10, 750, 1_000), 7.5);
  assert.equal(rampedWeight(4, 30_000, 60_000), 2);
});

Deno.test("rampedWeight: never below MIN_SHARE of the weight", () => {
  assert.equal(rampedWeight(10, 0, 1_000), 10 * MIN_SHARE);
  assert.equal(rampedWeight(10, 50, 1_000), 10 * MIN_SHARE);
  assert.equal(rampedWeight(10, 100, 1_000), 10 * MIN_SHARE);
  // Just past the floor the ramp takes over.
  assert.equal(rampedWeight(10, 200, 1_000), 2);
  // A clock read before the ramp started still gets the floor.
  assert.equal(rampedWeight(10, -500, 1_000), 10 * MIN_SHARE);
});

Deno.test("rampedWeight: full weight at and after the window", () => {
  assert.equal(rampedWeight(7, 1_000, 1_000), 7);
  assert.equal(rampedWeight(7, 1_001, 1_000), 7);
  assert.equal(rampedWeight(7, 1e12, 1_000), 7);
});

Deno.test("rampedWeight: a window of 0 (slow start off) gives full weight at once", () => {
  assert.equal(rampedWeight(7, 0, 0), 7);
  assert.equal(rampedWeight(7, 5, 0), 7);
  assert.equal(rampedWeight(7, 0, -1), 7);
});

Deno.test("rampedWeight property: within [MIN_SHARE × w, w] and non-decreasing in time", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000 }),
      fc.integer({ min: 1, max: 600_000 }),
      fc.integer({ min: 0, max: 700_000 }),
      fc.integer({ min: 0, max: 700_000 }),
      (weight, window, a, b) => {
        const [t1, t2] = a <= b ? [a, b] : [b, a];
        const w1 = rampedWeight(weight, t1, window);
        const w2 = rampedWeight(weight, t2, window);
        assert.ok(w1 >= weight * MIN_SHARE && w1 <= weight);
        assert.ok(w1 <= w2, `${w1} at ${t1} > ${w2} at ${t2}`);
        if (t1 >= window) assert.equal(w1, weight);
      },
    ),
  );
});
