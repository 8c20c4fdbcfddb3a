import assert from "node:assert/strict";
import fc from "fast-check";
import { SmoothSplit } from "../../lib/routing/split.ts";

function picks<T>(split: SmoothSplit<T>, n: number): T[] {
  return Array.from({ length: n }, () => split.next());
}

Deno.test("5:1:1 is spread out, as in NGINX", () => {
  const split = new SmoothSplit([["a", 5], ["b", 1], ["c", 1]]);
  assert.deepEqual(picks(split, 14).join(""), "aabacaaaabacaa");
});

Deno.test("equal weights are a plain rotation", () => {
  const split = new SmoothSplit([["a", 2], ["b", 2], ["c", 2]]);
  assert.deepEqual(picks(split, 6).join(""), "abcabc");
});

Deno.test("one entry always wins", () => {
  const split = new SmoothSplit([["only", 3]]);
  assert.deepEqual(picks(split, 4), ["only", "only", "only", "only"]);
});

Deno.test("entries with a weight ≤ 0 are ignored", () => {
  const split = new SmoothSplit([["zero", 0], ["a", 1], ["neg", -5], ["nan", NaN], ["b", 1]]);
  assert.equal(split.total, 2);
  assert.deepEqual(picks(split, 4).join(""), "abab");
});

Deno.test("no positive weight is a RangeError", () => {
  assert.throws(() => new SmoothSplit([]), RangeError);
  assert.throws(() => new SmoothSplit([["a", 0], ["b", -1]]), /positive weight.*2 entries/);
});

/**
 * How far each entry's count strays from its ideal share `k · w / total`
 * after each of the first `n` picks: `[most ahead, most behind]`. The
 * sequence repeats every `total` picks, so `n = total` covers every prefix.
 */
function deviation(weights: readonly number[], n: number): [number, number] {
  const split = new SmoothSplit(weights.map((w, i) => [i, w] as const));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map(() => 0);
  let ahead = 0;
  let behind = 0;
  for (let k = 1; k <= n; k++) {
    counts[split.next()]++;
    for (let i = 0; i < weights.length; i++) {
      const d = counts[i] - (k * weights[i]) / total;
      ahead = Math.max(ahead, d);
      behind = Math.max(behind, -d);
    }
  }
  return [ahead, behind];
}

const WEIGHTS = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 12 });

Deno.test("every window of total consecutive picks gives each entry exactly its weight", () => {
  fc.assert(fc.property(WEIGHTS, (weights) => {
    const split = new SmoothSplit(weights.map((w, i) => [i, w] as const));
    const total = split.total;
    const seq = picks(split, 3 * total);
    const counts = weights.map(() => 0);
    for (let i = 0; i < total; i++) counts[seq[i]]++;
    // Slide the window one pick at a time over the next two periods.
    for (let start = 0; start <= 2 * total; start++) {
      assert.deepEqual(counts, weights, `window at ${start}`);
      if (start === 2 * total) break;
      counts[seq[start]]--;
      counts[seq[start + total]]++;
    }
  }));
});

Deno.test("no entry is ever a whole pick ahead of its share", () => {
  fc.assert(fc.property(WEIGHTS, (weights) => {
    const total = weights.reduce((a, b) => a + b, 0);
    const [ahead] = deviation(weights, total);
    // The bound is 1 - 1/entries: the picked entry had at least total/entries credit.
    assert.ok(ahead <= 1 - 1 / weights.length + 1e-9, `${weights}: ${ahead}`);
  }));
});

Deno.test("with up to three entries no entry strays from its share by more than one pick", () => {
  const weights = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 });
  fc.assert(fc.property(weights, (weights) => {
    const total = weights.reduce((a, b) => a + b, 0);
    const [ahead, behind] = deviation(weights, total);
    assert.ok(ahead < 1 && behind < 1, `${weights}: ${ahead} ahead, ${behind} behind`);
  }));
});

Deno.test("with more entries one can fall a little more than a pick behind (a known limit)", () => {
  // After 16 picks of 1:1:1:11:11 the last entry has 6, its share is 7.04.
  const [, behind] = deviation([1, 1, 1, 11, 11], 25);
  assert.ok(behind > 1 && behind < 1.05, String(behind));
});
