/**
 * One view of health across workers, with `--retries 0` so that a worker
 * still sending to a dead backend shows as a `502` instead of being hidden
 * by a retry: a backend whose health checks fail is avoided by both
 * workers within one check interval; a connect failure seen by one worker
 * takes the backend out of the other at once, without any health check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import {
  byBody,
  failures,
  HEALTH_INTERVAL_MS,
  hit,
  hits,
  lbStatus,
  metricsText,
  namedBackend,
  samplesOf,
  sleep,
  startWorkersLb,
} from "./_workers.ts";

/** What a busy machine (test files run in parallel) may add to one interval. */
const SLACK_MS = 300;

Deno.test("--workers 2: a backend failing its checks is avoided by both workers within one interval", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using lb = await startWorkersLb([a.origin, b.origin], {
    extra: ["--health-fall", "1", "--retries", "0"],
  });
  const warm = await hits(lb.port, 40);
  assert.deepEqual(failures(warm), []);
  assert.ok(a.count() > 0 && b.count() > 0, `warm-up reached ${a.count()} / ${b.count()}`);

  // No traffic from here until the check: only the main thread's health
  // checks can have found out.
  await b.close();
  await sleep(HEALTH_INTERVAL_MS + SLACK_MS);
  const report = await lbStatus(lb);
  assert.equal(report.backends.find((x) => x.url === b.origin)?.state, "down");

  const after = await hits(lb.port, 100);
  assert.deepEqual(failures(after), [], "a worker still sent to the dead backend");
  assert.deepEqual(byBody(after), { a: 100 });
});

Deno.test("--workers 2: a connect failure in one worker takes the backend out of every worker at once", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  // Checks a minute apart: the first one runs at start, the next after the test.
  await using lb = await startWorkersLb([a.origin, b.origin], {
    extra: ["--health-interval", "1m", "--retries", "0"],
  });
  const warm = await hits(lb.port, 40);
  assert.deepEqual(failures(warm), []);
  assert.ok(a.count() > 0 && b.count() > 0, `warm-up reached ${a.count()} / ${b.count()}`);

  await b.close();
  // One request at a time until a worker fails to connect to b: the
  // client's 502 (there are no retries). A request written on a pooled
  // connection b closed as it shut down fails as a reset instead, which is
  // not a connect failure and takes nothing down: skip those.
  const connectFailures = async () =>
    samplesOf(await metricsText(lb), "lb_upstream_errors_total")
      .filter(([l]) => l.backend === b.origin && l.kind.startsWith("connect_")).length;
  const others: string[] = [];
  let found = false;
  for (let i = 0; i < 60 && !found; i++) {
    const res = await hit(lb.port);
    if (res.status === 200) continue;
    assert.equal(res.status, 502, res.body);
    found = (await connectFailures()) > 0;
    if (!found) others.push(res.body.trim());
  }
  assert.ok(found, `60 requests and no connect failure (other 502s: ${others.length})`);
  await waitFor(
    async () => (await lbStatus(lb)).backends.find((x) => x.url === b.origin)?.state === "down",
    1000,
    "the main thread to mark it down after the connect failure",
  );
  // "At once": allow the main thread's broadcast a moment, not a check interval.
  await sleep(100);

  const after = await hits(lb.port, 100);
  assert.deepEqual(failures(after), [], "the other worker still sent to the dead backend");
  assert.deepEqual(byBody(after), { a: 100 });
});
