/**
 * `--workers 2` serving traffic: the ready line comes once both workers
 * run; requests on many fresh connections are answered by both (their
 * `requests` in `/status` add up to exactly what was sent, and
 * `GET /api/workers` shows the same list); `/metrics` sums the workers, so
 * `lb_requests_total` rises by exactly the number of requests, and by
 * backend by exactly what each backend received.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import {
  admin,
  contractFields,
  failures,
  hits,
  metricsText,
  metricSum,
  namedBackend,
  startWorkersLb,
  TOKEN,
  totalRequests,
  type WorkerEntry,
  workers,
} from "./_workers.ts";

Deno.test("--workers 2: 200 fresh connections are served by both workers, counted exactly in /status", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using lb = await startWorkersLb([a.origin, b.origin], {
    extra: ["--admin-token", TOKEN],
  });

  // The ready line means every worker serves.
  const initial = await workers(lb);
  assert.deepEqual(initial.map((w) => [w.id, w.state, w.restarts]), [
    [1, "running", 0],
    [2, "running", 0],
  ]);
  for (const w of initial) {
    assert.equal(typeof w.requests, "number");
    assert.ok(!Number.isNaN(Date.parse(w.startedAt)), `startedAt ${w.startedAt} is not a date`);
    assert.equal(new Date(w.startedAt).toISOString(), w.startedAt, "startedAt is an ISO string");
  }
  const before = totalRequests(initial);

  const sent = 200;
  const outcomes = await hits(lb.port, sent);
  assert.deepEqual(failures(outcomes), []);
  assert.equal(a.count() + b.count(), sent);

  // Counters may reach the main thread a little after the answers: wait for
  // the sum, then require it exact (never more than was sent).
  await waitFor(
    async () => totalRequests(await workers(lb)) - before >= sent,
    3000,
    `workers' requests to reach ${sent}`,
  );
  const after = await workers(lb);
  const per = after.map((w, i) => w.requests - initial[i].requests);
  assert.equal(per[0] + per[1], sent, `per worker ${per}`);
  assert.ok(per.every((n) => n > 0), `a worker answered nothing: ${per}`);

  const api = await admin(lb, "GET", "/api/workers");
  assert.equal(api.status, 200, api.text);
  const listed = api.json as { workers: WorkerEntry[] };
  assert.deepEqual(Object.keys(listed), ["workers"]);
  assert.deepEqual(contractFields(listed.workers), contractFields(after));
});

Deno.test("--workers 2: lb_requests_total rises by exactly the requests sent, per backend as they saw them", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using lb = await startWorkersLb([a.origin, b.origin]);
  const name = "lb_requests_total";
  const start = await metricsText(lb);
  const before = metricSum(start, name);

  // Fresh connections spread over both workers; pooled keep-alive ones too.
  const fresh = 150;
  const outcomes = await hits(lb.port, fresh);
  assert.deepEqual(failures(outcomes), []);
  const pooled = 50;
  for (let i = 0; i < pooled; i++) {
    const res = await fetch(lb.url);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const sent = fresh + pooled;

  let text = "";
  await waitFor(
    async () => metricSum(text = await metricsText(lb), name) - before >= sent,
    3000,
    `${name} to rise by ${sent}`,
  );
  assert.equal(metricSum(text, name) - before, sent, text);
  assert.equal(metricSum(text, name, { code: "2xx", method: "GET" }) - before, sent);
  for (const backend of [a, b]) {
    const counted = metricSum(text, name, { backend: backend.origin }) -
      metricSum(start, name, { backend: backend.origin });
    assert.equal(counted, backend.count(), `${name}{backend="${backend.name}"}`);
  }
  // Gauges are summed too: nothing is in flight any more.
  assert.equal(metricSum(text, "lb_requests_in_flight"), 0);
  assert.match(text, /^# TYPE lb_worker_restarts_total counter$/m);
  assert.equal(metricSum(text, "lb_worker_restarts_total"), 0);
});
