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
  namedBackend,
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
  // One request at a time until a worker tries b: its connect failure is
  // the client's 502 (there are no retries).
  let first: { status: number; body: string } | undefined;
  for (let i = 0; i < 40 && !first; i++) {
    const res = await hit(lb.port);
    if (res.status !== 200) first = res;
  }
  assert.ok(first, "40 requests and no worker tried the dead backend");
  assert.equal(first.status, 502, first.body);
  await waitFor(
    async () => (await lbStatus(lb)).backends.find((x) => x.url === b.origin)?.state === "down",
    1000,
    "the main thread to mark it down",
  );
  // "At once": allow the main thread's broadcast a moment, not a check interval.
  await sleep(100);

  const after = await hits(lb.port, 100);
  assert.deepEqual(failures(after), [], "the other worker still sent to the dead backend");
  assert.deepEqual(byBody(after), { a: 100 });
});
