import assert from "node:assert/strict";
import type { BackendSpec } from "../lib/core/backend_spec.ts";
import type { HealthConfig, OutlierConfig } from "../lib/config/types.ts";
import {
  Backend,
  type EjectionEvent,
  type HealthFlip,
  Pool,
  type PoolOptions,
} from "../lib/pool/pool.ts";
import { recordOutcome } from "../lib/pool/outcome.ts";

const HEALTH: HealthConfig = {
  intervalMs: 1000,
  timeoutMs: 100,
  rise: 2,
  fall: 3,
  downIntervalMs: 1000,
};

/** Pool options as `lb` passes them by default (`--ewma-decay 10s`, no slow start). */
const OPTIONS: PoolOptions = { name: "default", ewmaDecayMs: 10_000, slowStartMs: 0 };

function spec(port: number): BackendSpec {
  return { origin: `http://127.0.0.1:${port}`, hostname: "127.0.0.1", port, weight: 1 };
}

/** A pool of backends on ports 1..n, created at t=100, recording every flip. */
function setup(n = 3, health = HEALTH) {
  const pool = new Pool(Array.from({ length: n }, (_, i) => spec(i + 1)), health, 100, OPTIONS);
  const flips: HealthFlip[] = [];
  pool.onFlip((f) => flips.push(f));
  return { pool, flips, b: pool.backends };
}

Deno.test("Pool: every backend starts up and in the snapshot, in configuration order", () => {
  const { pool, b } = setup();
  assert.deepEqual(b.map((x) => x.id), [
    "http://127.0.0.1:1",
    "http://127.0.0.1:2",
    "http://127.0.0.1:3",
  ]);
  assert.deepEqual(pool.healthy, b);
  for (const backend of b) {
    assert.equal(backend.up, true);
    assert.equal(backend.lastChange, 100);
    assert.equal(backend.reason, "starting");
    assert.equal(backend.inFlight, 0);
    assert.equal(backend.requests, 0);
    assert.equal(backend.failures, 0);
  }
});

Deno.test("Pool keeps the configured spec objects", () => {
  const specs = [spec(1), spec(2)];
  const pool = new Pool(specs, HEALTH, 0, OPTIONS);
  assert.equal(pool.backends[0].spec, specs[0]);
  assert.equal(pool.backends[1].spec, specs[1]);
});

Deno.test("Pool with no backends has an empty snapshot", () => {
  assert.deepEqual(new Pool([], HEALTH, 0, OPTIONS).healthy, []);
});

Deno.test("Pool.markDown takes a backend down at once and emits one flip", () => {
  const { pool, flips, b } = setup();
  pool.markDown(b[1], "connection refused", 200);
  assert.equal(b[1].up, false);
  assert.equal(b[1].lastChange, 200);
  assert.equal(b[1].reason, "connection refused");
  assert.deepEqual(pool.healthy, [b[0], b[2]]);
  assert.deepEqual(flips, [{ backend: b[1], up: false, reason: "connection refused" }]);
});

Deno.test("Pool.markDown on a backend already down changes nothing", () => {
  const { pool, flips, b } = setup();
  pool.markDown(b[0], "first", 200);
  const snapshot = pool.healthy;
  pool.markDown(b[0], "second", 300);
  assert.equal(flips.length, 1);
  assert.equal(b[0].lastChange, 200);
  assert.equal(b[0].reason, "first");
  assert.equal(pool.healthy, snapshot);
});

Deno.test("Pool: the snapshot is replaced, never mutated, on a flip", () => {
  const { pool, b } = setup();
  const before = pool.healthy;
  pool.markDown(b[0], "down", 200);
  const after = pool.healthy;
  assert.notEqual(after, before);
  assert.deepEqual(before, [b[0], b[1], b[2]], "the old snapshot is untouched");
  assert.deepEqual(after, [b[1], b[2]]);
});

Deno.test("Pool: the snapshot is the same object while nothing flips", () => {
  const { pool, b } = setup();
  const before = pool.healthy;
  pool.observe(b[0], true, "ok", 200);
  pool.observe(b[0], false, "timeout", 300);
  pool.observe(b[0], false, "timeout", 400);
  assert.equal(pool.healthy, before);
});

Deno.test("Pool.observe takes a backend down after `fall` failures in a row", () => {
  const { pool, flips, b } = setup();
  pool.observe(b[2], false, "refused", 200);
  pool.observe(b[2], false, "refused", 300);
  assert.equal(b[2].up, true);
  assert.equal(flips.length, 0);
  assert.equal(b[2].lastChange, 100, "lastChange moves only on a flip");
  assert.equal(b[2].reason, "starting");
  pool.observe(b[2], false, "timed out", 400);
  assert.equal(b[2].up, false);
  assert.equal(b[2].lastChange, 400);
  assert.equal(b[2].reason, "timed out");
  assert.deepEqual(pool.healthy, [b[0], b[1]]);
  assert.deepEqual(flips, [{ backend: b[2], up: false, reason: "timed out" }]);
  pool.observe(b[2], false, "refused", 500);
  assert.equal(flips.length, 1, "no second flip while it stays down");
});

Deno.test("Pool.observe brings a backend back after `rise` passes, in configuration order", () => {
  const { pool, flips, b } = setup();
  pool.markDown(b[0], "refused", 200);
  pool.observe(b[0], true, "ok", 300);
  assert.equal(b[0].up, false);
  assert.deepEqual(pool.healthy, [b[1], b[2]]);
  pool.observe(b[0], true, "probe passed", 400);
  assert.equal(b[0].up, true);
  assert.equal(b[0].lastChange, 400);
  assert.equal(b[0].reason, "probe passed");
  assert.deepEqual(pool.healthy, [b[0], b[1], b[2]]);
  assert.deepEqual(flips.map((f) => [f.backend.id, f.up, f.reason]), [
    ["http://127.0.0.1:1", false, "refused"],
    ["http://127.0.0.1:1", true, "probe passed"],
  ]);
});

Deno.test("Pool.observe: a pass between failures resets the count", () => {
  const { pool, b } = setup();
  for (const ok of [false, false, true, false, false]) pool.observe(b[0], ok, "", 200);
  assert.equal(b[0].up, true);
});

Deno.test("Pool.markDown after partial failures emits exactly one flip", () => {
  const { pool, flips, b } = setup();
  pool.observe(b[0], false, "refused", 200);
  pool.markDown(b[0], "reset", 300);
  pool.observe(b[0], false, "refused", 400);
  pool.observe(b[0], false, "refused", 500);
  assert.equal(flips.length, 1);
  assert.equal(b[0].up, false);
});

Deno.test("Pool: every listener receives every flip, in subscription order", () => {
  const { pool, b } = setup();
  const seen: string[] = [];
  pool.onFlip((f) => seen.push(`a:${f.backend.id}:${f.up}`));
  pool.onFlip((f) => seen.push(`b:${f.backend.id}:${f.up}`));
  pool.markDown(b[0], "x", 200);
  assert.deepEqual(seen, ["a:http://127.0.0.1:1:false", "b:http://127.0.0.1:1:false"]);
});

Deno.test("Pool: a listener sees the new snapshot already in place", () => {
  const { pool, b } = setup();
  let seen: readonly unknown[] = [];
  pool.onFlip(() => seen = pool.healthy);
  pool.markDown(b[1], "x", 200);
  assert.deepEqual(seen, [b[0], b[2]]);
});

Deno.test("Pool: all backends down leaves an empty snapshot", () => {
  const { pool, b } = setup();
  for (const backend of b) pool.markDown(backend, "x", 200);
  assert.deepEqual(pool.healthy, []);
});

Deno.test("Pool: the name and EWMA decay come from the options", () => {
  const pool = new Pool([spec(1)], HEALTH, 0, { ...OPTIONS, name: "api", ewmaDecayMs: 2_500 });
  assert.equal(pool.name, "api");
  assert.equal(pool.backends[0].ewma.decayMs, 2_500);
  const added = pool.add(spec(2))!;
  assert.equal(added.ewma.decayMs, 2_500, "backends added later too");
});

// --- Backend counters ---------------------------------------------------------

function lone(): Backend {
  return new Backend(spec(1), 0, 10_000);
}

Deno.test("Backend.begin: one more in flight and one more request", () => {
  const b = lone();
  b.begin();
  assert.deepEqual([b.inFlight, b.requests, b.failures], [1, 1, 0]);
  b.begin();
  assert.deepEqual([b.inFlight, b.requests, b.failures], [2, 2, 0]);
});

Deno.test("Backend.fail: no longer in flight, and counted as a failure", () => {
  const b = lone();
  b.begin();
  b.fail();
  assert.deepEqual([b.inFlight, b.requests, b.failures], [0, 1, 1]);
});

Deno.test("Backend.settle: no longer in flight, not a failure", () => {
  const b = lone();
  b.begin();
  b.answered(12, 1_000);
  b.settle();
  assert.deepEqual([b.inFlight, b.requests, b.failures], [0, 1, 0]);
});

Deno.test("Backend.answered: feeds the EWMA and the latency window, counters untouched", () => {
  const b = lone();
  b.begin();
  assert.equal(b.ewma.value(1_000), 0);
  assert.deepEqual(b.latency.percentiles([0.5]), [null]);
  b.answered(40, 1_000);
  assert.equal(b.ewma.value(1_000), 40, "the peak is taken at once");
  assert.ok(b.ewma.value(11_000) < 40, "and decays with the pool's time constant");
  assert.ok(Math.abs(b.ewma.value(11_000) - 40 / Math.E) < 1e-9);
  assert.deepEqual(b.latency.percentiles([0.5]), [40]);
  assert.deepEqual([b.inFlight, b.requests, b.failures], [1, 1, 0]);
});

Deno.test("Backend: every begin ended by fail or settle leaves nothing in flight", () => {
  const b = lone();
  let fails = 0;
  // Overlapping attempts, ended in a different order than begun.
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 5; i++) b.begin();
    assert.equal(b.inFlight, 5);
    for (let i = 0; i < 5; i++) {
      if ((round + i) % 3 === 0) {
        b.fail();
        fails++;
      } else {
        b.answered(5, round);
        b.settle();
      }
    }
    assert.equal(b.inFlight, 0, `round ${round + 1}`);
  }
  assert.deepEqual([b.inFlight, b.requests, b.failures], [0, 50, fails]);
});

Deno.test("Backend: the counters are read-only from outside", () => {
  const b = lone();
  for (const field of ["inFlight", "requests", "failures"] as const) {
    assert.throws(() => {
      (b as unknown as Record<string, number>)[field] = 3;
    }, TypeError);
    assert.equal(b[field], 0);
  }
});

// --- recordOutcome (passive outlier detection) -----------------------------

function outlier(overrides: Partial<OutlierConfig> = {}): OutlierConfig {
  return {
    consecutiveErrors: 3,
    on5xx: false,
    baseEjectionMs: 30_000,
    maxEjectionPercent: 50,
    ...overrides,
  };
}

/** A pool of `n` on a clock the test moves, recording ejections; closed on dispose. */
function ejecting(n = 4) {
  const clock = { t: 1_000 };
  const pool = new Pool(
    Array.from({ length: n }, (_, i) => spec(i + 1)),
    HEALTH,
    0,
    { ...OPTIONS, now: () => clock.t },
  );
  const events: EjectionEvent[] = [];
  pool.onEjection((e) => events.push(e));
  return { pool, clock, events, b: pool.backends, [Symbol.dispose]: () => pool.close() };
}

Deno.test("recordOutcome ejects after N consecutive failures", () => {
  using t = ejecting();
  const { pool, b, events } = t;
  const config = outlier();
  recordOutcome(pool, b[1], false, config);
  recordOutcome(pool, b[1], false, config);
  assert.equal(b[1].ejected, false);
  assert.deepEqual(pool.healthy, b);
  assert.equal(events.length, 0);
  recordOutcome(pool, b[1], false, config);
  assert.equal(b[1].ejected, true);
  assert.equal(b[1].outlier.ejectedUntil, 1_000 + 30_000, "until the pool's clock + base time");
  assert.equal(b[1].reason, "3 consecutive errors");
  assert.equal(b[1].lastChange, 1_000);
  assert.equal(b[1].up, true, "ejection is not a health flip");
  assert.deepEqual(pool.healthy, [b[0], b[2], b[3]]);
  assert.equal(pool.ejectedCount, 1);
  assert.deepEqual(events, [{ backend: b[1], ejected: true, reason: "3 consecutive errors" }]);
});

Deno.test("recordOutcome: a success resets the count", () => {
  using t = ejecting();
  const { pool, b } = t;
  const config = outlier();
  for (const ok of [false, false, true, false, false, true, false, false]) {
    recordOutcome(pool, b[0], ok, config);
  }
  assert.equal(b[0].ejected, false);
  assert.equal(b[0].outlier.consecutive, 2);
  assert.equal(t.events.length, 0);
  recordOutcome(pool, b[0], false, config);
  assert.equal(b[0].ejected, true, "three in a row since the last success");
});

Deno.test("recordOutcome: each backend has its own count", () => {
  using t = ejecting();
  const { pool, b } = t;
  const config = outlier();
  for (let i = 0; i < 2; i++) for (const x of b) recordOutcome(pool, x, false, config);
  assert.equal(pool.ejectedCount, 0, "two each, interleaved");
  recordOutcome(pool, b[3], false, config);
  assert.deepEqual(b.map((x) => x.ejected), [false, false, false, true]);
});

Deno.test("recordOutcome: off when consecutiveErrors is 0", () => {
  using t = ejecting();
  const { pool, b } = t;
  const config = outlier({ consecutiveErrors: 0 });
  const snapshot = pool.healthy;
  for (let i = 0; i < 100; i++) recordOutcome(pool, b[0], false, config);
  assert.equal(b[0].ejected, false);
  assert.deepEqual(b[0].outlier, { consecutive: 0, ejections: 0, ejectedUntil: 0 });
  assert.equal(pool.healthy, snapshot, "the snapshot is not even rebuilt");
  assert.equal(t.events.length, 0);
});

Deno.test("recordOutcome: never ejects beyond maxEjectionPercent of the pool", () => {
  using t = ejecting(4);
  const { pool, b } = t;
  const config = outlier({ consecutiveErrors: 1, maxEjectionPercent: 50 });
  for (const x of b) recordOutcome(pool, x, false, config);
  assert.deepEqual(b.map((x) => x.ejected), [true, true, false, false]);
  assert.deepEqual(pool.healthy, [b[2], b[3]]);
});

Deno.test("recordOutcome: failures while ejected don't extend the ejection", () => {
  using t = ejecting();
  const { pool, b, clock } = t;
  const config = outlier();
  for (let i = 0; i < 3; i++) recordOutcome(pool, b[0], false, config);
  const until = b[0].outlier.ejectedUntil;
  clock.t += 5_000;
  // Requests that were in flight when it was ejected still fail.
  for (let i = 0; i < 10; i++) recordOutcome(pool, b[0], false, config);
  assert.equal(b[0].outlier.ejectedUntil, until);
  assert.equal(b[0].outlier.ejections, 1);
  assert.equal(t.events.length, 1);
});

Deno.test("recordOutcome: the ejection ends on the pool's timer and the backend returns", async () => {
  using t = ejecting();
  const { pool, b, events } = t;
  const config = outlier({ consecutiveErrors: 1, baseEjectionMs: 20 });
  recordOutcome(pool, b[2], false, config);
  assert.equal(b[2].ejected, true);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(b[2].ejected, false);
  assert.equal(b[2].reason, "ejection ended");
  assert.deepEqual(pool.healthy, b);
  assert.deepEqual(events.map((e) => e.ejected), [true, false]);
  // A second ejection lasts twice as long.
  recordOutcome(pool, b[2], false, config);
  assert.equal(b[2].outlier.ejectedUntil, t.clock.t + 40);
});
