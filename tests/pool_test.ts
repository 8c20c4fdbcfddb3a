import assert from "node:assert/strict";
import type { BackendSpec, HealthConfig } from "../lib/config/parse.ts";
import { type HealthFlip, Pool } from "../lib/pool/pool.ts";

const HEALTH: HealthConfig = {
  intervalMs: 1000,
  timeoutMs: 100,
  rise: 2,
  fall: 3,
  downIntervalMs: 1000,
};

function spec(port: number): BackendSpec {
  return { origin: `http://127.0.0.1:${port}`, hostname: "127.0.0.1", port, weight: 1 };
}

/** A pool of backends on ports 1..n, created at t=100, recording every flip. */
function setup(n = 3, health = HEALTH) {
  const pool = new Pool(Array.from({ length: n }, (_, i) => spec(i + 1)), health, 100);
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
  const pool = new Pool(specs, HEALTH, 0);
  assert.equal(pool.backends[0].spec, specs[0]);
  assert.equal(pool.backends[1].spec, specs[1]);
});

Deno.test("Pool with no backends has an empty snapshot", () => {
  assert.deepEqual(new Pool([], HEALTH, 0).healthy, []);
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
