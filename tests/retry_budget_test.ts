import assert from "node:assert/strict";
import fc from "fast-check";
import { RetryBudget } from "../lib/resilience/retry_budget.ts";

/** Calls tryRetry `n` times at `now` and returns how many were granted. */
function drain(budget: RetryBudget, now: number, n: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (budget.tryRetry(now)) granted++;
  return granted;
}

// --- the floor --------------------------------------------------------------

Deno.test("RetryBudget: the floor allows minPerSecond × 10 retries with no requests", () => {
  const budget = new RetryBudget(20, 1);
  assert.equal(drain(budget, 0, 25), 10);
  assert.equal(budget.tryRetry(0), false);
});

Deno.test("RetryBudget: the floor is per window, not per second", () => {
  // Ten seconds' worth of floor may all be spent in the first second.
  const budget = new RetryBudget(0, 3);
  assert.equal(drain(budget, 500, 100), 30);
  assert.equal(drain(budget, 5_500, 100), 0);
});

Deno.test("RetryBudget: no percent and no floor allows no retries", () => {
  const budget = new RetryBudget(0, 0);
  for (let i = 0; i < 100; i++) budget.recordRequest(0);
  assert.equal(budget.tryRetry(0), false);
});

// --- the percentage ---------------------------------------------------------

Deno.test("RetryBudget: percent of requests in the window caps retries", () => {
  const budget = new RetryBudget(20, 0);
  for (let i = 0; i < 10; i++) budget.recordRequest(0);
  assert.equal(drain(budget, 0, 10), 2);
  // More requests make more room.
  for (let i = 0; i < 5; i++) budget.recordRequest(100);
  assert.equal(drain(budget, 100, 10), 1);
});

Deno.test("RetryBudget: a fraction of a retry is not a retry", () => {
  // 20% of 4 requests is 0.8: the first retry would be 1 > 0.8.
  const budget = new RetryBudget(20, 0);
  for (let i = 0; i < 4; i++) budget.recordRequest(0);
  assert.equal(budget.tryRetry(0), false);
  budget.recordRequest(0);
  assert.equal(budget.tryRetry(0), true);
});

Deno.test("RetryBudget: the larger of percent and floor applies", () => {
  const budget = new RetryBudget(50, 1); // floor: 10 per window
  for (let i = 0; i < 10; i++) budget.recordRequest(0); // 50%: 5
  assert.equal(drain(budget, 0, 100), 10);
  for (let i = 0; i < 30; i++) budget.recordRequest(0); // 50% of 40: 20
  assert.equal(drain(budget, 0, 100), 10);
});

Deno.test("RetryBudget: requests and retries spread over the window all count", () => {
  const budget = new RetryBudget(100, 0);
  for (let s = 0; s < 10; s++) budget.recordRequest(s * 1000 + 999);
  // All ten requests (buckets 0-9) are in the window at 9.999 s.
  assert.equal(drain(budget, 9_999, 20), 10);
});

// --- the sliding window -----------------------------------------------------

Deno.test("RetryBudget: requests fall out of the window after ten buckets", () => {
  const budget = new RetryBudget(100, 0);
  for (let i = 0; i < 5; i++) budget.recordRequest(0);
  // 9.999 s is bucket 9: bucket 0 is still in the window; the retries use it up.
  assert.equal(drain(budget, 9_999, 10), 5);
  // 10 s is bucket 10: bucket 0 (the requests and the retries) has gone.
  assert.equal(budget.tryRetry(10_000), false);
});

Deno.test("RetryBudget: spent floor comes back once its bucket leaves the window", () => {
  const budget = new RetryBudget(0, 1);
  assert.equal(drain(budget, 0, 10), 10);
  assert.equal(budget.tryRetry(9_999), false);
  assert.equal(drain(budget, 10_000, 20), 10);
});

Deno.test("RetryBudget: only the buckets that left the window are cleared", () => {
  const budget = new RetryBudget(0, 1); // 10 per window
  assert.equal(drain(budget, 0, 4), 4); // bucket 0
  assert.equal(drain(budget, 5_000, 6), 6); // bucket 5
  assert.equal(budget.tryRetry(9_000), false);
  // At bucket 10, bucket 0's four come back, bucket 5's six still count.
  assert.equal(drain(budget, 10_000, 20), 4);
  // At bucket 15, bucket 5's six come back too.
  assert.equal(drain(budget, 15_000, 20), 6);
});

Deno.test("RetryBudget: a jump longer than the window clears everything", () => {
  for (const jump of [10_000, 10_001, 25_000, 1_000_000_000]) {
    const budget = new RetryBudget(50, 1);
    for (let i = 0; i < 100; i++) budget.recordRequest(0);
    assert.equal(drain(budget, 0, 200), 50);
    // After the jump only the floor is left: the old requests and retries are gone.
    assert.equal(drain(budget, jump, 200), 10, `jump ${jump}`);
  }
});

Deno.test("RetryBudget: a jump of a few buckets keeps the rest of the window", () => {
  const budget = new RetryBudget(100, 0);
  for (let i = 0; i < 3; i++) budget.recordRequest(2_000); // bucket 2
  for (let i = 0; i < 4; i++) budget.recordRequest(7_000); // bucket 7
  // Bucket 12 keeps buckets 3-12: bucket 2 has gone, bucket 7 stays.
  assert.equal(drain(budget, 12_500, 10), 4);
});

Deno.test("RetryBudget: the first call sets the clock wherever it starts", () => {
  const budget = new RetryBudget(0, 1);
  assert.equal(drain(budget, 1_234_567, 20), 10);
  assert.equal(drain(budget, 1_234_567 + 9_000, 20), 0);
  assert.equal(drain(budget, 1_234_567 + 10_000, 20), 10);
});

// --- property: a reference model --------------------------------------------

type Op =
  | { readonly kind: "request"; readonly advance: number }
  | { readonly kind: "retry"; readonly advance: number };

const advance = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 1_500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_500, max: 25_000 }) },
);
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("request" as const, "retry" as const),
  advance,
});

const BUCKET_MS = 1000;
const WINDOW_BUCKETS = 10;

/** The buckets of the window that ends in `now`'s bucket, as the implementation defines it. */
function inWindow(at: number, now: number): boolean {
  const b = Math.floor(now / BUCKET_MS);
  const a = Math.floor(at / BUCKET_MS);
  return a > b - WINDOW_BUCKETS && a <= b;
}

function allowed(requests: number, percent: number, minPerSecond: number): number {
  return Math.max((requests * percent) / 100, minPerSecond * WINDOW_BUCKETS);
}

Deno.test("RetryBudget property: grants exactly what a window of ten one-second buckets allows", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 50_000 }),
      fc.array(op, { maxLength: 300 }),
      (percent, minPerSecond, start, ops) => {
        const budget = new RetryBudget(percent, minPerSecond);
        const requests: number[] = [];
        const granted: number[] = [];
        let now = start;
        for (const o of ops) {
          now += o.advance;
          if (o.kind === "request") {
            budget.recordRequest(now);
            requests.push(now);
            continue;
          }
          const inReq = requests.filter((t) => inWindow(t, now)).length;
          const inRetry = granted.filter((t) => inWindow(t, now)).length;
          const expected = inRetry + 1 <= allowed(inReq, percent, minPerSecond);
          assert.equal(budget.tryRetry(now), expected, `at ${now}`);
          if (expected) granted.push(now);
        }
        // The invariant, checked after the fact for every window that ends in
        // a bucket where a retry was granted: retries in it never exceed
        // max(percent% of its requests, the floor).
        for (const end of new Set(granted)) {
          const retries = granted.filter((t) => inWindow(t, end)).length;
          const reqs = requests.filter((t) => inWindow(t, end)).length;
          assert.ok(
            retries <= allowed(reqs, percent, minPerSecond),
            `window ending at ${end}: ${retries} retries for ${reqs} requests`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});
