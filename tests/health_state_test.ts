import assert from "node:assert/strict";
import fc from "fast-check";
import { DOWN_NOW, type HealthState, INITIAL_HEALTH, observe } from "../lib/pool/health_state.ts";

/** Feeds `results` through observe, returning every step. */
function run(start: HealthState, results: boolean[], rise: number, fall: number) {
  const steps: { state: HealthState; flipped: boolean }[] = [];
  let state = start;
  for (const ok of results) {
    const step = observe(state, ok, { rise, fall });
    steps.push(step);
    state = step.state;
  }
  return steps;
}

Deno.test("INITIAL_HEALTH is up and DOWN_NOW is down, both with no streak", () => {
  assert.deepEqual(INITIAL_HEALTH, { up: true, streak: 0 });
  assert.deepEqual(DOWN_NOW, { up: false, streak: 0 });
});

/** Each row: start state, results, thresholds, and the `up` and `flipped` after each result. */
const CASES: {
  name: string;
  start: HealthState;
  results: boolean[];
  rise: number;
  fall: number;
  up: boolean[];
  flipped: boolean[];
}[] = [
  {
    name: "up stays up on passes",
    start: INITIAL_HEALTH,
    results: [true, true, true],
    rise: 2,
    fall: 3,
    up: [true, true, true],
    flipped: [false, false, false],
  },
  {
    name: "fall=3: goes down on the third failure in a row, once",
    start: INITIAL_HEALTH,
    results: [false, false, false, false, false],
    rise: 2,
    fall: 3,
    up: [true, true, false, false, false],
    flipped: [false, false, true, false, false],
  },
  {
    name: "a pass resets the failure streak",
    start: INITIAL_HEALTH,
    results: [false, false, true, false, false, false],
    rise: 2,
    fall: 3,
    up: [true, true, true, true, true, false],
    flipped: [false, false, false, false, false, true],
  },
  {
    name: "rise=2: comes up on the second pass in a row, once",
    start: DOWN_NOW,
    results: [true, true, true],
    rise: 2,
    fall: 3,
    up: [false, true, true],
    flipped: [false, true, false],
  },
  {
    name: "a failure resets the pass streak",
    start: DOWN_NOW,
    results: [true, false, true, true],
    rise: 2,
    fall: 3,
    up: [false, false, false, true],
    flipped: [false, false, false, true],
  },
  {
    name: "rise=1 and fall=1 flip on every contrary result",
    start: INITIAL_HEALTH,
    results: [false, false, true, true, false],
    rise: 1,
    fall: 1,
    up: [false, false, true, true, false],
    flipped: [true, false, true, false, true],
  },
  {
    name: "a full cycle down and back up",
    start: INITIAL_HEALTH,
    results: [false, false, true, true],
    rise: 2,
    fall: 2,
    up: [true, false, false, true],
    flipped: [false, true, false, true],
  },
];

for (const c of CASES) {
  Deno.test(`observe: ${c.name}`, () => {
    const steps = run(c.start, c.results, c.rise, c.fall);
    assert.deepEqual(steps.map((s) => s.state.up), c.up);
    assert.deepEqual(steps.map((s) => s.flipped), c.flipped);
  });
}

Deno.test("observe: the streak counts contrary results and resets on an agreeing one", () => {
  const steps = run(INITIAL_HEALTH, [false, false, true, false], 2, 5);
  assert.deepEqual(steps.map((s) => s.state.streak), [1, 2, 0, 1]);
});

Deno.test("observe: the streak is zero right after a flip", () => {
  const [step] = run({ up: true, streak: 2 }, [false], 2, 3);
  assert.deepEqual(step, { state: { up: false, streak: 0 }, flipped: true });
});

Deno.test("observe does not mutate the state it is given", () => {
  const state = Object.freeze({ up: true, streak: 1 });
  observe(state, false, { rise: 2, fall: 3 });
  observe(state, true, { rise: 2, fall: 3 });
  assert.deepEqual(state, { up: true, streak: 1 });
});

Deno.test("observe (property): flipped ⇔ up changed, and only after rise/fall contrary results in a row", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.boolean(), { maxLength: 200 }),
      (startUp, rise, fall, results) => {
        let state: HealthState = { up: startUp, streak: 0 };
        let contrary = 0; // consecutive results disagreeing with state.up, counted independently
        for (const ok of results) {
          const { state: next, flipped } = observe(state, ok, { rise, fall });
          assert.equal(flipped, next.up !== state.up);
          contrary = ok === state.up ? 0 : contrary + 1;
          if (flipped) {
            assert.equal(ok, next.up, "flips toward the result just seen");
            assert.equal(contrary, state.up ? fall : rise);
            contrary = 0;
          } else {
            assert.ok(contrary < (state.up ? fall : rise));
          }
          assert.equal(next.streak, contrary);
          state = next;
        }
      },
    ),
  );
});
