/**
 * Copies of a pool in several threads (`pool/replica.ts`): the main
 * thread's members and state applied to a worker's copy, and a worker's
 * reports applied to the main thread's pool, on a fake clock.
 */

import assert from "node:assert/strict";
import type { BackendSpec } from "../lib/core/backend_spec.ts";
import type { HealthConfig } from "../lib/config/types.ts";
import { Pool } from "../lib/pool/pool.ts";
import { applyMembers, applyReport, exportMembers } from "../lib/pool/replica.ts";

const HEALTH: HealthConfig = {
  intervalMs: 1000,
  timeoutMs: 100,
  rise: 2,
  fall: 3,
  downIntervalMs: 1000,
};

function spec(port: number, weight = 1): BackendSpec {
  return { origin: `http://127.0.0.1:${port}`, hostname: "127.0.0.1", port, weight };
}

/** A main-thread pool and a worker's copy of it, on one fake clock. */
function pair(ports = [1, 2, 3]) {
  const clock = { now: 1_000_000 };
  const options = { name: "p", ewmaDecayMs: 10_000, slowStartMs: 0, now: () => clock.now };
  const main = new Pool(ports.map((p) => spec(p)), HEALTH, clock.now, options);
  const copy = new Pool(ports.map((p) => spec(p)), HEALTH, clock.now, options);
  return {
    clock,
    main,
    copy,
    sync: () => applyMembers(copy, exportMembers(main)),
    [Symbol.dispose]: () => {
      main.close();
      copy.close();
    },
  };
}

const ids = (pool: Pool) => pool.healthy.map((b) => b.id);

Deno.test("replica: a backend the main thread's checks take down is down in the copy", () => {
  using p = pair();
  const b = p.main.backends[1];
  for (let i = 0; i < HEALTH.fall; i++) p.main.observe(b, false, "refused", p.clock.now);
  p.sync();
  assert.deepEqual(ids(p.copy), ["http://127.0.0.1:1", "http://127.0.0.1:3"]);
  const copied = p.copy.find(b.id)!;
  assert.equal(copied.up, false);
  assert.equal(copied.reason, "refused");
  // And back up with the next export.
  for (let i = 0; i < HEALTH.rise; i++) p.main.observe(b, true, "ok", p.clock.now);
  p.sync();
  assert.equal(ids(p.copy).length, 3);
});

Deno.test("replica: maintenance, weights, joins and leaves follow the main thread", () => {
  using p = pair();
  p.main.setMaintenance("http://127.0.0.1:1", true);
  p.main.setWeight("http://127.0.0.1:2", 5);
  p.main.add(spec(4), { awaitCheck: true });
  p.main.remove("http://127.0.0.1:3");
  p.sync();
  const copy = p.copy;
  assert.equal(copy.find("http://127.0.0.1:1")!.maintenance, true);
  assert.equal(copy.find("http://127.0.0.1:2")!.weight, 5);
  // A new member that must pass a check first is down in the copy too.
  assert.equal(copy.find("http://127.0.0.1:4")!.up, false);
  // The removed one drains in the copy, on the copy's own in-flight count.
  assert.equal(copy.find("http://127.0.0.1:3")!.draining, true);
  assert.deepEqual(ids(copy), ["http://127.0.0.1:2"]);
});

Deno.test("replica: a copy still serving a removed backend drains it on its own count", () => {
  using p = pair([1, 2]);
  const busy = p.copy.find("http://127.0.0.1:2")!;
  busy.begin();
  p.main.remove("http://127.0.0.1:2");
  p.sync();
  assert.equal(busy.draining, true);
  assert.ok(p.copy.backends.includes(busy), "stays while its request is in flight");
  busy.settle();
});

Deno.test("replica: an ejection reported by one worker reaches the main pool and every copy", () => {
  using p = pair();
  const until = p.clock.now + 30_000;
  applyReport(p.main, {
    kind: "eject",
    origin: "http://127.0.0.1:3",
    until,
    ejections: 1,
    reason: "5 consecutive errors",
  }, p.clock.now);
  const b = p.main.find("http://127.0.0.1:3")!;
  assert.equal(b.outlier.ejectedUntil, until);
  assert.equal(b.outlier.ejections, 1);
  p.sync();
  const copied = p.copy.find("http://127.0.0.1:3")!;
  assert.equal(copied.ejected, true);
  assert.equal(copied.outlier.ejectedUntil, until);
  assert.equal(copied.outlier.ejections, 1, "the next ejection escalates from the shared count");
});

Deno.test("replica: a connect failure reported by a worker takes the backend down at once", () => {
  using p = pair();
  applyReport(p.main, { kind: "down", origin: "http://127.0.0.1:1", reason: "refused" }, 5);
  assert.equal(p.main.find("http://127.0.0.1:1")!.up, false);
  p.sync();
  assert.equal(p.copy.find("http://127.0.0.1:1")!.up, false);
});

Deno.test("replica: applying is idempotent and emits no event the second time", () => {
  using p = pair();
  for (let i = 0; i < HEALTH.fall; i++) p.main.observe(p.main.backends[0], false, "x", 1);
  p.sync();
  let events = 0;
  p.copy.onFlip(() => events++);
  p.copy.onEjection(() => events++);
  p.sync();
  p.sync();
  assert.equal(events, 0);
});

Deno.test("replica: a report about a backend that left, or of an older ejection, changes nothing", () => {
  using p = pair();
  applyReport(p.main, { kind: "down", origin: "http://127.0.0.1:9", reason: "?" }, 1);
  const b = p.main.find("http://127.0.0.1:2")!;
  const later = p.clock.now + 60_000;
  p.main.eject(b, later, "first");
  applyReport(p.main, {
    kind: "eject",
    origin: b.id,
    until: p.clock.now + 1000,
    ejections: 1,
    reason: "older",
  }, p.clock.now);
  assert.equal(b.outlier.ejectedUntil, later);
  assert.equal(b.reason, "first");
});

Deno.test("replica: two workers reporting the same ejection make one", () => {
  using p = pair();
  let ejections = 0;
  p.main.onEjection((e) => e.ejected && ejections++);
  const report = (until: number) =>
    applyReport(p.main, {
      kind: "eject",
      origin: "http://127.0.0.1:1",
      until,
      ejections: 1,
      reason: "errors",
    }, p.clock.now);
  report(p.clock.now + 30_000);
  report(p.clock.now + 30_002);
  assert.equal(ejections, 1);
  assert.equal(p.main.find("http://127.0.0.1:1")!.outlier.ejectedUntil, p.clock.now + 30_000);
});

Deno.test("pool: a later ejection of an ejected backend extends it; the first timer doesn't end it", async () => {
  const pool = new Pool([spec(1)], HEALTH, Date.now(), {
    name: "p",
    ewmaDecayMs: 10_000,
    slowStartMs: 0,
  });
  try {
    const b = pool.backends[0];
    pool.eject(b, Date.now() + 20, "short");
    pool.eject(b, Date.now() + 10_000, "longer");
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(b.ejected, true);
  } finally {
    pool.close();
  }
});

Deno.test("replica: a backend back up ramps its weight in the copy too (slow start)", () => {
  const clock = { now: 5_000 };
  const options = { name: "p", ewmaDecayMs: 10_000, slowStartMs: 10_000, now: () => clock.now };
  const main = new Pool([spec(1, 10)], HEALTH, clock.now, options);
  const copy = new Pool([spec(1, 10)], HEALTH, clock.now, options);
  try {
    const b = main.backends[0];
    for (let i = 0; i < HEALTH.fall; i++) main.observe(b, false, "refused", clock.now);
    applyMembers(copy, exportMembers(main));
    for (let i = 0; i < HEALTH.rise; i++) main.observe(b, true, "ok", clock.now);
    applyMembers(copy, exportMembers(main));
    const copied = copy.backends[0];
    assert.equal(copied.up, true);
    assert.equal(copied.effectiveWeight, 1, "a tenth of its weight as the ramp starts");
    assert.equal(b.effectiveWeight, copied.effectiveWeight, "the same ramp as the main thread's");
  } finally {
    main.close();
    copy.close();
  }
});
