/**
 * SIGTERM with `--workers 2` drains every worker: twenty slow requests on
 * twenty connections (so both workers hold some: all twenty on one worker
 * has odds of about 2 in a million) are all at the backend when the signal
 * comes; every one completes with 200, and lb exits 0 within
 * `--shutdown-timeout`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import { hit, namedBackend, startWorkersLb } from "./_workers.ts";

Deno.test("--workers 2: SIGTERM lets in-flight requests on both workers finish, then exits 0", async () => {
  const slowMs = 1000;
  await using backend = namedBackend("slow", { delayMs: slowMs });
  const lb = await startWorkersLb([backend.origin]);
  try {
    const n = 20;
    const answers = Array.from({ length: n }, () =>
      hit(lb.port, "/", 10_000).then(
        (r) => `${r.status} ${r.body}`,
        (err) => `error ${err}`,
      ));
    await waitFor(() => backend.count() === n, 5000, `${n} requests at the backend`);
    const signalledAt = performance.now();
    lb.proc.signal("SIGTERM");

    assert.deepEqual(await Promise.all(answers), Array(n).fill("200 slow"));
    // The exit the signal started; lb.stop() would send a second one.
    const { code } = await lb.proc.status;
    const took = performance.now() - signalledAt;
    assert.equal(code, 0, lb.proc.lines().join("\n"));
    assert.ok(took < 5000, `exit ${took.toFixed(0)} ms after SIGTERM (--shutdown-timeout 5s)`);
  } finally {
    await lb.stop();
  }
});
