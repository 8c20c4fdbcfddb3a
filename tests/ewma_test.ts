import assert from "node:assert/strict";
import fc from "fast-check";
import { PeakEwma } from "../lib/pool/ewma.ts";

const TAU = 1_000;

function close(actual: number, expected: number, message?: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${message ?? ""} expected ${expected}, got ${actual}`,
  );
}

Deno.test("PeakEwma: zero before any sample", () => {
  const e = new PeakEwma(TAU);
  assert.equal(e.decayMs, TAU);
  assert.equal(e.value(0), 0);
  assert.equal(e.value(123_456), 0);
});

Deno.test("PeakEwma: the first sample is the value", () => {
  const e = new PeakEwma(TAU);
  e.observe(100, 5_000);
  assert.equal(e.value(5_000), 100);
});

Deno.test("PeakEwma: a higher sample replaces the value at once", () => {
  const e = new PeakEwma(TAU);
  e.observe(10, 0);
  e.observe(100, 1);
  assert.equal(e.value(1), 100);
  e.observe(250, 1);
  assert.equal(e.value(1), 250);
});

Deno.test("PeakEwma: a lower sample is blended into the decayed value by exp(-Δt/τ)", () => {
  const e = new PeakEwma(TAU);
  e.observe(100, 0);
  e.observe(10, 1_000);
  const w = Math.exp(-1);
  const v1 = 100 * w * w + 10 * (1 - w);
  close(e.value(1_000), v1, "one step");
  e.observe(5, 1_500);
  const w2 = Math.exp(-0.5);
  close(e.value(1_500), v1 * w2 * w2 + 5 * (1 - w2), "two steps");
});

Deno.test("PeakEwma: a lower sample at the same instant has no weight", () => {
  const e = new PeakEwma(TAU);
  e.observe(100, 1_000);
  e.observe(1, 1_000);
  assert.equal(e.value(1_000), 100);
});

Deno.test("PeakEwma: many lower samples converge on the sample", () => {
  const e = new PeakEwma(TAU);
  e.observe(500, 0);
  let now = 0;
  for (let i = 0; i < 200; i++) e.observe(10, now += 100);
  close(e.value(now), 10, "after 20 τ");
  assert.ok(e.value(now) >= 10);
});

Deno.test("PeakEwma: value(now) decays toward 0 with no samples", () => {
  const e = new PeakEwma(TAU);
  e.observe(100, 0);
  close(e.value(1_000), 100 / Math.E, "after τ");
  close(e.value(2_000), 100 / Math.E ** 2, "after 2τ");
  assert.ok(e.value(60_000) < 1e-20);
  // Reading the value doesn't change it.
  assert.equal(e.value(0), 100);
});

Deno.test("PeakEwma: value(now) before the last sample is not inflated", () => {
  const e = new PeakEwma(TAU);
  e.observe(100, 5_000);
  assert.equal(e.value(4_000), 100);
});

Deno.test("PeakEwma: a shorter τ decays faster", () => {
  const fast = new PeakEwma(100);
  const slow = new PeakEwma(10_000);
  for (const e of [fast, slow]) {
    e.observe(100, 0);
    e.observe(10, 500);
  }
  assert.ok(fast.value(500) < slow.value(500));
  // Decayed below the sample, so the sample replaces it.
  close(fast.value(500), 10);
});

Deno.test("PeakEwma property: the value stays within the samples seen; value(now) never grows", () => {
  const sample = fc.record({
    latency: fc.double({ min: 0, max: 10_000, noNaN: true }),
    advance: fc.integer({ min: 0, max: 10_000 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60_000 }),
      fc.array(sample, { minLength: 1, maxLength: 50 }),
      fc.integer({ min: 0, max: 100_000 }),
      (tau, samples, later) => {
        const e = new PeakEwma(tau);
        let now = 0;
        let max = 0;
        let min = Infinity;
        for (const s of samples) {
          now += s.advance;
          e.observe(s.latency, now);
          max = Math.max(max, s.latency);
          min = Math.min(min, s.latency);
          const v = e.value(now);
          assert.ok(v <= max * (1 + 1e-12), `${v} above the largest sample ${max}`);
          assert.ok(v >= min * (1 - 1e-12), `${v} below the smallest sample ${min}`);
        }
        assert.ok(e.value(now + later) <= e.value(now));
      },
    ),
  );
});

// Regression test for a fixed bug (lib/ewma.ts:19-27): observe() compares and blends with the stored
// value as of the last sample, not the value decayed to `now` that value()
// reports. After a quiet spell the estimate read by value() has decayed
// toward 0, yet the next sample, even a lower one, pushes it back *up*, above
// the sample itself. E.g. observe(100, 0); value(1000) = 36.8 (τ = 1 s);
// observe(50, 1000) → value(1000) = 68.4. Expected: 50 is above the current
// estimate, so it replaces it (50); any sample should move the estimate
// toward the sample, never past it. (tower's PeakEwma, which linkerd uses,
// decays the stored estimate itself when it is read, so the next sample is
// compared with and blended into the decayed value.)
Deno.test({
  name: "PeakEwma: a sample moves the decayed estimate toward it, never past it",
  fn: () => {
    const e = new PeakEwma(TAU);
    e.observe(100, 0);
    const before = e.value(1_000); // 36.79
    e.observe(50, 1_000);
    close(e.value(1_000), 50, "a sample above the estimate replaces it");
    assert.ok(before < 50);

    const f = new PeakEwma(TAU);
    f.observe(100, 0);
    const decayed = f.value(1_000); // 36.79
    f.observe(30, 1_000);
    const after = f.value(1_000);
    assert.ok(after >= 30 && after <= decayed, `${after} not between 30 and ${decayed}`);
  },
});
