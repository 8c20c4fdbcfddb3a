import assert from "node:assert/strict";
import fc from "fast-check";
import type { OutlierConfig } from "../lib/config/types.ts";
import { newOutlierState, type OutlierState, recordResult } from "../lib/resilience/outlier.ts";

const BASE = 30_000;

function cfg(overrides: Partial<OutlierConfig> = {}): OutlierConfig {
  return {
    consecutiveErrors: 3,
    on5xx: false,
    baseEjectionMs: BASE,
    maxEjectionPercent: 50,
    ...overrides,
  };
}

/** Records `n` errors at `now` in a pool of 10 with none ejected; returns each result. */
function errors(
  state: OutlierState,
  n: number,
  now: number,
  config = cfg(),
): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(recordResult(state, false, now, config, 0, 10));
  return out;
}

Deno.test("newOutlierState: no streak, never ejected", () => {
  assert.deepEqual(newOutlierState(), { consecutive: 0, ejections: 0, ejectedUntil: 0 });
});

Deno.test("recordResult: ejects after N consecutive errors, for the base time", () => {
  const state = newOutlierState();
  assert.deepEqual(errors(state, 3, 1_000), [undefined, undefined, 1_000 + BASE]);
  assert.deepEqual(state, { consecutive: 0, ejections: 1, ejectedUntil: 1_000 + BASE });
});

Deno.test("recordResult: one error ejects when consecutiveErrors is 1", () => {
  const state = newOutlierState();
  assert.equal(recordResult(state, false, 0, cfg({ consecutiveErrors: 1 }), 0, 10), BASE);
});

Deno.test("recordResult: a success resets the streak", () => {
  const state = newOutlierState();
  errors(state, 2, 0);
  assert.equal(recordResult(state, true, 0, cfg(), 0, 10), undefined);
  assert.equal(state.consecutive, 0);
  assert.deepEqual(errors(state, 2, 0), [undefined, undefined]);
  assert.equal(errors(state, 1, 0)[0], BASE);
});

Deno.test("recordResult: successes never eject and leave ejection state alone", () => {
  const state = newOutlierState();
  for (let i = 0; i < 100; i++) assert.equal(recordResult(state, true, i, cfg(), 0, 10), undefined);
  assert.deepEqual(state, newOutlierState());
});

Deno.test("recordResult: ejection time grows linearly with repeated ejections", () => {
  const state = newOutlierState();
  let now = 0;
  for (let k = 1; k <= 5; k++) {
    const until = errors(state, 3, now).at(-1);
    assert.equal(until, now + BASE * k, `ejection ${k}`);
    assert.equal(state.ejections, k);
    now = until! + 1; // after the ejection ends
  }
});

Deno.test("recordResult: never ejects while already ejected", () => {
  const state = newOutlierState();
  const until = errors(state, 3, 0).at(-1)!;
  // Errors keep arriving (requests in flight when it was ejected).
  assert.deepEqual(errors(state, 10, 1_000), Array(10).fill(undefined));
  assert.deepEqual(errors(state, 10, until - 1), Array(10).fill(undefined));
  assert.equal(state.ejections, 1);
  assert.equal(state.ejectedUntil, until);
});

Deno.test("recordResult: the ejection ends at ejectedUntil exactly", () => {
  const state = newOutlierState();
  const until = errors(state, 3, 0).at(-1)!;
  // At `until` the backend is no longer ejected, so a full streak ejects it again.
  assert.equal(errors(state, 3, until).at(-1), until + 2 * BASE);
});

Deno.test("recordResult: consecutiveErrors 0 disables ejection", () => {
  const state = newOutlierState();
  const config = cfg({ consecutiveErrors: 0 });
  assert.ok(errors(state, 1_000, 0, config).every((r) => r === undefined));
  assert.equal(state.ejections, 0);
  assert.equal(state.ejectedUntil, 0);
});

// --- the ejection ceiling ---------------------------------------------------

/** How many backends of `poolSize` may be ejected at `percent`, found by asking recordResult. */
function ceiling(poolSize: number, percent: number): number {
  const config = cfg({ consecutiveErrors: 1, maxEjectionPercent: percent });
  for (let ejectedNow = 0; ejectedNow <= poolSize; ejectedNow++) {
    const state = newOutlierState();
    if (recordResult(state, false, 0, config, ejectedNow, poolSize) === undefined) {
      return ejectedNow;
    }
  }
  return poolSize + 1;
}

const CEILINGS: { pool: number; percent: number; max: number; why: string }[] = [
  { pool: 5, percent: 40, max: 2, why: "40% of 5" },
  { pool: 2, percent: 50, max: 1, why: "50% of 2" },
  { pool: 10, percent: 50, max: 5, why: "50% of 10" },
  { pool: 4, percent: 100, max: 4, why: "100% of 4" },
  { pool: 5, percent: 0, max: 0, why: "0% ejects nothing" },
  { pool: 1, percent: 0, max: 0, why: "0% of 1" },
  { pool: 1, percent: 50, max: 0, why: "floor(1 × 50%) = 0: a lone backend stays" },
  { pool: 1, percent: 99, max: 0, why: "floor(1 × 99%) = 0" },
  { pool: 1, percent: 100, max: 1, why: "floor(1 × 100%) = 1" },
  { pool: 3, percent: 10, max: 1, why: "pools of two or more may always eject one" },
  { pool: 2, percent: 1, max: 1, why: "pools of two or more may always eject one" },
  { pool: 0, percent: 50, max: 0, why: "an empty pool" },
];

for (const c of CEILINGS) {
  Deno.test(`recordResult ceiling: pool ${c.pool} at ${c.percent}% → ${c.max} (${c.why})`, () => {
    assert.equal(ceiling(c.pool, c.percent), c.max);
  });
}

Deno.test("recordResult: a streak refused by the ceiling ejects once there is room", () => {
  const state = newOutlierState();
  const config = cfg({ maxEjectionPercent: 40 });
  for (let i = 0; i < 5; i++) {
    assert.equal(recordResult(state, false, 0, config, 2, 5), undefined);
  }
  assert.equal(state.ejections, 0);
  // Another backend came back: the next error ejects this one.
  assert.equal(recordResult(state, false, 10, config, 1, 5), 10 + BASE);
});

Deno.test("recordResult property: ejects only on a full streak, within the ceiling, never twice", () => {
  const step = fc.record({
    ok: fc.boolean(),
    advance: fc.integer({ min: 0, max: 20_000 }),
    ejectedNow: fc.integer({ min: 0, max: 6 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(step, { maxLength: 200 }),
      (consecutiveErrors, percent, poolSize, steps) => {
        const config = cfg({ consecutiveErrors, maxEjectionPercent: percent });
        const state = newOutlierState();
        let streak = 0;
        let now = 0;
        for (const s of steps) {
          now += s.advance;
          const wasEjected = state.ejectedUntil > now;
          const before = state.ejections;
          const until = recordResult(state, s.ok, now, config, s.ejectedNow, poolSize);
          streak = s.ok ? 0 : streak + 1;
          if (until === undefined) {
            assert.equal(state.ejections, before);
            continue;
          }
          assert.ok(!s.ok && consecutiveErrors > 0 && streak >= consecutiveErrors);
          assert.ok(!wasEjected);
          assert.ok(
            s.ejectedNow <
              Math.max(poolSize > 1 && percent > 0 ? 1 : 0, Math.floor(poolSize * percent / 100)),
          );
          assert.equal(state.ejections, before + 1);
          assert.equal(until, now + BASE * state.ejections);
          assert.equal(state.ejectedUntil, until);
          streak = 0;
        }
      },
    ),
  );
});
