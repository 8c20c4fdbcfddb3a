/**
 * A worker killed from outside (`DELETE /api/workers/{id}`, as `kill -9`
 * would an NGINX worker) is replaced: same id, `restarts` 1, running again
 * within a few seconds, counted in `lb_worker_restarts_total` with reason
 * `killed`; requests on new connections keep succeeding throughout, only
 * those the killed worker held may fail. The API refuses a missing token
 * and answers 404 for an unknown id.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import {
  admin,
  contractFields,
  failures,
  hit,
  metricsText,
  metricSum,
  moreResults,
  namedBackend,
  startLoad,
  startWorkersLb,
  TOKEN,
  type WorkerEntry,
  workers,
} from "./_workers.ts";

/**
 * After the 202, how long connections may still reach the dying worker's
 * listener (its thread is torn down, then its socket closes); requests sent
 * later must all succeed.
 */
const GRACE_MS = 500;

Deno.test("--workers 2: DELETE /api/workers/1 kills worker 1; it is replaced and the rest keep serving", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using lb = await startWorkersLb([a.origin, b.origin], { extra: ["--admin-token", TOKEN] });
  const initial = await workers(lb);
  assert.deepEqual(initial.map((w) => [w.id, w.state, w.restarts]), [
    [1, "running", 0],
    [2, "running", 0],
  ]);

  const load = startLoad(lb.port);
  let ackedAt = 0;
  try {
    await moreResults(load, 50);
    const killed = await admin(lb, "DELETE", "/api/workers/1");
    ackedAt = performance.now();
    assert.equal(killed.status, 202, killed.text);
    assert.deepEqual(killed.json, { worker: 1, state: "restarting" });

    await waitFor(
      async () => {
        const w = (await workers(lb)).find((x) => x.id === 1);
        return w?.restarts === 1 && w.state === "running";
      },
      5000,
      "worker 1 replaced and running",
    );
    const replaced = await workers(lb);
    await moreResults(load, 150);
    await load.stop();

    const late = load.results.filter((r) => r.started > ackedAt + GRACE_MS);
    assert.deepEqual(failures(late), [], "requests sent after the kill failed");
    const lost = failures(load.results.filter((r) => r.started <= ackedAt + GRACE_MS));
    console.log(`${lost.length} requests lost with the killed worker`);

    // The replacement binds the port again and takes its share.
    await waitFor(
      async () => {
        const now = (await workers(lb)).find((x) => x.id === 1)!;
        return now.requests > replaced.find((x) => x.id === 1)!.requests;
      },
      3000,
      "the replacement to answer requests",
    );
  } finally {
    await load.stop();
  }

  const after = await workers(lb);
  assert.deepEqual(after.map((w) => [w.id, w.state, w.restarts]), [
    [1, "running", 1],
    [2, "running", 0],
  ]);
  assert.ok(Date.parse(after[0].startedAt) > Date.parse(initial[0].startedAt), "a new startedAt");
  assert.equal(after[1].startedAt, initial[1].startedAt, "worker 2 was not restarted");
  const listed = (await admin(lb, "GET", "/api/workers")).json as { workers: WorkerEntry[] };
  assert.deepEqual(contractFields(listed.workers), contractFields(after));

  const text = await metricsText(lb);
  const restarts = "lb_worker_restarts_total";
  assert.equal(metricSum(text, restarts, { worker: "1", reason: "killed" }), 1, text);
  assert.equal(metricSum(text, restarts), 1, "no other restart counted");
});

Deno.test("DELETE /api/workers/{id}: 401 without the token, 404 for an unknown id", async () => {
  await using a = namedBackend("a");
  await using lb = await startWorkersLb([a.origin], { extra: ["--admin-token", TOKEN] });
  const noToken = await admin(lb, "DELETE", "/api/workers/1", { auth: false });
  assert.equal(noToken.status, 401, noToken.text);
  for (const id of ["3", "0"]) {
    const unknown = await admin(lb, "DELETE", `/api/workers/${id}`);
    assert.equal(unknown.status, 404, `/api/workers/${id}: ${unknown.text}`);
  }
  // Nothing was restarted by the refusals.
  const now = await workers(lb);
  assert.deepEqual(now.map((w) => [w.id, w.restarts]), [[1, 0], [2, 0]]);
  assert.equal(metricSum(await metricsText(lb), "lb_worker_restarts_total"), 0);
});

Deno.test("DELETE /api/workers/1 cuts the killed worker's in-flight requests at once, and only those", async () => {
  await using slow = namedBackend("slow", { delayMs: 1500 });
  await using lb = await startWorkersLb([slow.origin], { extra: ["--admin-token", TOKEN] });
  // Sixteen connections: both workers hold some (all on one: odds 1 in 2^15).
  const n = 16;
  const answers = Array.from({ length: n }, () =>
    hit(lb.port, "/", 10_000).then(
      (r) => `${r.status} ${r.body}`,
      (err) => `error ${err}`,
    ));
  await waitFor(() => slow.count() === n, 5000, `${n} requests at the backend`);
  const killed = await admin(lb, "DELETE", "/api/workers/1");
  assert.equal(killed.status, 202, killed.text);

  const done = await Promise.all(answers);
  const ok = done.filter((d) => d === "200 slow");
  const cut = done.filter((d) => d !== "200 slow");
  assert.ok(cut.length > 0, "no request was lost: the kill waited for worker 1's requests");
  assert.ok(ok.length > 0, "worker 2's requests were lost too");
  for (const d of cut) assert.doesNotMatch(d, /no answer within/, "a cut request hung");
  assert.equal(
    metricSum(await metricsText(lb), "lb_worker_restarts_total", { worker: "1", reason: "killed" }),
    1,
  );
});
