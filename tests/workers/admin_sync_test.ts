/**
 * Admin API changes reach every worker. The main thread owns the pools and
 * publishes each change; a `/status` read afterwards asks every worker for
 * its counters over the same message channel, so once it answers, both
 * workers have applied the change and no grace period is needed.
 *
 * Round-robin rotates exactly in each worker, so a backend's share of the
 * requests after a change tells whether both workers applied it: a worker
 * that missed a weight, a maintenance or a membership change would give that
 * backend a different share of its own requests (a third instead of none,
 * none instead of a quarter), which with at least {@link MIN_PER_WORKER}
 * requests per worker is well outside the tolerance. Weights are 1-1000
 * (0 is refused); HTTP health checks (`/healthz`) let a new backend fail
 * its checks until the test says otherwise. `--retries 0` shows any request
 * sent to a backend that should get none.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type LbProcess, waitFor } from "../_lb.ts";
import { failures, hits, lbStatus, startWorkersLb, TOKEN } from "./_workers.ts";
import {
  adminCall,
  backendPath,
  entryOf,
  servedSince,
  statusBackends,
  type SwitchBackend,
  switchBackend,
  workerRequests,
} from "./_more.ts";

/** Below this, one worker's requests would not move a share past the tolerance. */
const MIN_PER_WORKER = 30;
/** How far from its exact share a backend's count may be (rotation phase in two workers). */
const TOLERANCE = 4;

/**
 * `n` requests on fresh connections after a barrier; checks none failed and
 * each worker served at least {@link MIN_PER_WORKER}; returns what each
 * backend received.
 */
async function round(
  lb: LbProcess,
  backends: readonly SwitchBackend[],
  n: number,
): Promise<Record<string, number>> {
  await lbStatus(lb); // the barrier: both workers have applied every change so far
  const counts = backends.map((b) => b.count());
  const before = await workerRequests(lb);
  const outcomes = await hits(lb.port, n);
  assert.deepEqual(failures(outcomes), []);
  const per = await servedSince(lb, before, n);
  assert.ok(per.every((k) => k >= MIN_PER_WORKER), `a worker served too few to tell: ${per}`);
  return Object.fromEntries(backends.map((b, i) => [b.name, b.count() - counts[i]]));
}

/** Asserts each backend got its weight's share of `n` requests, within {@link TOLERANCE}. */
function assertShares(got: Record<string, number>, weights: Record<string, number>, n: number) {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  for (const [name, w] of Object.entries(weights)) {
    const want = (n * w) / total;
    assert.ok(
      Math.abs((got[name] ?? 0) - want) <= TOLERANCE,
      `${name} got ${got[name]} of ${n}, expected ${want.toFixed(1)} ±${TOLERANCE}: ` +
        `${JSON.stringify(got)} (a worker that missed the change?)`,
    );
  }
}

Deno.test("--workers 2: weights, maintenance, added and removed backends reach both workers", async () => {
  await using a = switchBackend("a");
  await using b = switchBackend("b");
  await using c = switchBackend("c");
  await using lb = await startWorkersLb([a.origin, b.origin, c.origin], {
    extra: ["--admin-token", TOKEN, "--health-path", "/healthz", "--retries", "0"],
  });
  const three = [a, b, c];
  await waitFor(async () => (await statusBackends(lb)).every((x) => x.state === "up"));

  // Weights are 1-1000: 0 is refused and changes nothing.
  const zero = await adminCall(lb, "PUT", backendPath(a.origin, "/weight"), { weight: 0 });
  assert.equal(zero.status, 400, zero.text);
  assert.match(JSON.parse(zero.text).error, /"weight" must be a whole number from 1 to 1000/);
  assert.equal((await entryOf(lb, a.origin))?.weight, 1);

  // Weight 8 for a: 8 of every 10 picks in each worker (a stale one: a third).
  const heavy = await adminCall(lb, "PUT", backendPath(a.origin, "/weight"), { weight: 8 });
  assert.equal(heavy.status, 200, heavy.text);
  assertShares(await round(lb, three, 200), { a: 8, b: 1, c: 1 }, 200);
  const back = await adminCall(lb, "PUT", backendPath(a.origin, "/weight"), { weight: 1 });
  assert.equal(back.status, 200, back.text);

  // Maintenance on b: no worker sends it anything.
  const on = await adminCall(lb, "POST", backendPath(b.origin, "/maintenance"));
  assert.equal(on.status, 200, on.text);
  assert.equal((await entryOf(lb, b.origin))?.state, "maintenance");
  assertShares(await round(lb, three, 150), { a: 1, b: 0, c: 1 }, 150);

  // Back from maintenance: a third of each worker's requests again.
  const off = await adminCall(lb, "DELETE", backendPath(b.origin, "/maintenance"));
  assert.equal(off.status, 200, off.text);
  assert.equal((await entryOf(lb, b.origin))?.state, "up");
  assertShares(await round(lb, three, 150), { a: 1, b: 1, c: 1 }, 150);

  // A new backend failing its checks: added, but no worker uses it yet.
  await using d = switchBackend("d", { healthy: false });
  const four = [a, b, c, d];
  const added = await adminCall(lb, "POST", "/api/backends", { url: d.origin });
  assert.equal(added.status, 201, added.text);
  assert.equal((await entryOf(lb, d.origin))?.state, "down");
  await waitFor(() => d.checks() >= 2, 5000, "two failed checks of d");
  assertShares(await round(lb, four, 90), { a: 1, b: 1, c: 1, d: 0 }, 90);

  // Its first passing check: both workers use it.
  d.healthy = true;
  await waitFor(async () => (await entryOf(lb, d.origin))?.state === "up", 5000, "d to come up");
  assertShares(await round(lb, four, 200), { a: 1, b: 1, c: 1, d: 1 }, 200);

  // Removed: it drains, no worker sends it anything, and it leaves the pool.
  const removed = await adminCall(lb, "DELETE", backendPath(d.origin));
  assert.equal(removed.status, 202, removed.text);
  assertShares(await round(lb, four, 150), { a: 1, b: 1, c: 1, d: 0 }, 150);
  await waitFor(async () => (await entryOf(lb, d.origin)) === undefined, 5000, "d to leave");
  assertShares(await round(lb, four, 90), { a: 1, b: 1, c: 1, d: 0 }, 90);
});
