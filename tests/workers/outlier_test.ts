/**
 * Passive outlier detection across workers: with `--eject-on-5xx`, the
 * worker that sees a backend's fifth 5xx in a row ejects it and reports
 * it; the main thread spreads the ejection, so both workers stop sending
 * to it (fresh connections spread only over the others, and both workers
 * serve them), `/status` shows it `ejected`, and
 * `lb_outlier_ejections_total` counts each ejection once, not once per
 * worker, the second ejection (after the first one ends) included; also
 * when the errors reach both workers at the same moment, so that each
 * counts its fifth before the other's ejection arrives. `--retries 0`
 * keeps every 5xx visible to the client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type LbProcess, waitFor } from "../_lb.ts";
import {
  byBody,
  failures,
  hits,
  metricsText,
  metricSum,
  namedBackend,
  startLoad,
  startWorkersLb,
} from "./_workers.ts";
import { entryOf, servedSince, switchBackend, workerRequests } from "./_more.ts";

const EJECT_AFTER = 5;
/** Long enough for the checks below to run inside the first ejection; the second lasts twice as long. */
const EJECT_TIME_MS = 4000;

/**
 * Requests one after another, each on a fresh connection (so on either
 * worker), until `origin` shows `ejected` in `/status`: one worker sees the
 * fifth error in a row first. (Errors reaching both at once are the last test.)
 */
async function loadUntilEjected(lb: LbProcess, origin: string): Promise<void> {
  const load = startLoad(lb.port, { clients: 1, pauseMs: 2, max: 2000 });
  try {
    await waitFor(
      async () => (await entryOf(lb, origin))?.state === "ejected",
      10_000,
      `${origin} to be ejected`,
    );
  } finally {
    const outcomes = await load.stop();
    // The only errors are the bad backend's own 500s.
    const others = outcomes.filter((o) => o.status !== 200 && o.status !== 500);
    assert.deepEqual(failures(others), []);
  }
}

async function ejectionsCounted(lb: LbProcess, origin: string): Promise<number> {
  return metricSum(await metricsText(lb), "lb_outlier_ejections_total", { backend: origin });
}

Deno.test("--workers 2: a backend ejected for 5xx by one worker gets no traffic from either, counted once per ejection", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using bad = switchBackend("bad", { status: 500 });
  await using lb = await startWorkersLb([a.origin, b.origin, bad.origin], {
    extra: [
      "--eject-on-5xx",
      "--eject-after",
      String(EJECT_AFTER),
      "--eject-time",
      `${EJECT_TIME_MS}ms`,
      "--retries",
      "0",
    ],
  });
  assert.equal(await ejectionsCounted(lb, bad.origin), 0);

  await loadUntilEjected(lb, bad.origin);
  const ejected = await entryOf(lb, bad.origin);
  assert.equal(ejected?.ejections, 1, JSON.stringify(ejected));
  assert.match(ejected?.reason ?? "", /consecutive errors/);

  // /status asked both workers for their counters after the ejection was
  // published, so both have applied it by now: no grace period is needed.
  const reached = bad.count();
  const before = await workerRequests(lb);
  const after = await hits(lb.port, 120);
  assert.deepEqual(failures(after), [], "a worker still sent to the ejected backend");
  assert.equal(bad.count(), reached, "the ejected backend got requests");
  const spread = byBody(after);
  assert.deepEqual(Object.keys(spread).sort(), ["a", "b"]);
  const per = await servedSince(lb, before, 120);
  assert.ok(per.every((n) => n > 0), `a worker served nothing while it was ejected: ${per}`);
  assert.equal(
    (await entryOf(lb, bad.origin))?.state,
    "ejected",
    `the ejection ended before the checks were done: raise EJECT_TIME_MS (${EJECT_TIME_MS})`,
  );

  let text = await metricsText(lb);
  assert.equal(metricSum(text, "lb_outlier_ejections_total", { backend: bad.origin }), 1, text);
  assert.equal(metricSum(text, "lb_outlier_ejections_total"), 1, "another backend was ejected");
  assert.equal(metricSum(text, "lb_backend_ejected", { backend: bad.origin }), 1);

  // The ejection ends in every worker; still failing, the backend is ejected again.
  await waitFor(
    async () => (await entryOf(lb, bad.origin))?.state === "up",
    EJECT_TIME_MS + 3000,
    "the first ejection to end",
  );
  await loadUntilEjected(lb, bad.origin);
  assert.equal((await entryOf(lb, bad.origin))?.ejections, 2);
  text = await metricsText(lb);
  assert.equal(metricSum(text, "lb_outlier_ejections_total", { backend: bad.origin }), 2, text);
  const again = await hits(lb.port, 60);
  assert.deepEqual(failures(again), [], "a worker sent to the backend ejected a second time");
});

/** Ejections of the burst test: each is a chance for both workers to eject at once. */
const BURSTS = 5;
/** The burst test's first ejection; the n-th lasts n times as long. */
const BURST_EJECT_MS = 300;

Deno.test("--workers 2: errors reaching both workers at once are one ejection, counted once", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using bad = switchBackend("bad", { status: 500 });
  await using lb = await startWorkersLb([a.origin, b.origin, bad.origin], {
    extra: ["--eject-on-5xx", "--eject-after", String(EJECT_AFTER), "--retries", "0"]
      .concat(["--eject-time", `${BURST_EJECT_MS}ms`]),
  });

  // Each burst: the bad backend holds its answers until every client waits
  // on it (40 fresh connections, so each worker has far more than
  // EJECT_AFTER requests to it in flight; fewer than 5 of 40 on one worker:
  // p < 1e-6), then answers them all at once, so the 500s reach both
  // workers within a millisecond and each may count five in a row before
  // the other's ejection arrives. Whatever the workers do, that is one
  // ejection of a backend that went bad once.
  const clients = 40;
  const seen: string[] = [];
  for (let burst = 1; burst <= BURSTS; burst++) {
    bad.hold();
    const load = startLoad(lb.port, { clients, pauseMs: 0, max: 4000 });
    try {
      await waitFor(() => bad.held() >= clients, 10_000, `all ${clients} clients to wait on bad`);
      bad.release();
      await waitFor(
        async () => (await entryOf(lb, bad.origin))?.state === "ejected",
        5000,
        `bad to be ejected (burst ${burst})`,
      );
    } finally {
      bad.release();
      await load.stop();
    }
    const entry = await entryOf(lb, bad.origin);
    const counted = await ejectionsCounted(lb, bad.origin);
    seen.push(`burst ${burst}: /status ejections ${entry?.ejections}, metric ${counted}`);
    if (counted !== burst || entry?.ejections !== burst) break;
    if (burst < BURSTS) {
      await waitFor(
        async () => (await entryOf(lb, bad.origin))?.state === "up",
        BURST_EJECT_MS * burst + 3000,
        `ejection ${burst} to end`,
      );
    }
  }
  // For the message: the main thread's log lines of the ejections.
  const logged = lb.proc.lines().filter((l) => l.includes(`${bad.origin} ejected`));
  const want = Array.from(
    { length: seen.length },
    (_, i) => `burst ${i + 1}: /status ejections ${i + 1}, metric ${i + 1}`,
  );
  assert.deepEqual(seen, want, `ejections logged:\n${logged.join("\n")}`);
});
