/**
 * How many workers lb starts: `--workers auto` is one per CPU the process
 * may use (its affinity, as `navigator.hardwareConcurrency` counts it, so
 * `taskset -c 0` makes it one), `LB_WORKERS` sets it without the flag, the
 * default is one (the main thread, id 0, serves), and a value that is
 * neither a count nor `auto` exits 2 naming the flag.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runDeno } from "../_process.ts";
import {
  hits,
  namedBackend,
  startWorkersLb,
  totalRequests,
  type WorkerEntry,
  workers,
} from "./_workers.ts";

/** The `/status` workers of lb running `n` threads: ids 1..n, or the main thread (0) alone. */
function expectedIds(n: number): number[] {
  return n === 1 ? [0] : Array.from({ length: n }, (_, i) => i + 1);
}

function summary(list: readonly WorkerEntry[]): [number, string][] {
  return list.map((w) => [w.id, w.state]);
}

Deno.test("--workers auto starts one worker per CPU the process may use", async () => {
  await using a = namedBackend("a");
  await using lb = await startWorkersLb([a.origin], { workers: "auto" });
  const cpus = navigator.hardwareConcurrency;
  assert.deepEqual(
    summary(await workers(lb)),
    expectedIds(cpus).map((id) => [id, "running"]),
    `${cpus} CPUs`,
  );
});

Deno.test({
  name: "--workers auto under taskset -c 0 starts one: the CPUs allowed, not the machine's",
  ignore: Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2,
  async fn() {
    await using a = namedBackend("a");
    await using lb = await startWorkersLb([a.origin], { workers: "auto", cpus: "0" });
    assert.deepEqual(summary(await workers(lb)), [[0, "running"]]);
  },
});

Deno.test("LB_WORKERS=2 without the flag starts two workers", async () => {
  await using a = namedBackend("a");
  await using lb = await startWorkersLb([a.origin], { workers: null, env: { LB_WORKERS: "2" } });
  assert.deepEqual(summary(await workers(lb)), [[1, "running"], [2, "running"]]);
});

Deno.test("by default one thread serves: /status lists the main thread as worker 0", async () => {
  await using a = namedBackend("a");
  await using lb = await startWorkersLb([a.origin], { workers: null });
  const sent = await hits(lb.port, 5, 1);
  assert.ok(sent.every((o) => o.status === 200));
  const list = await workers(lb);
  assert.deepEqual(summary(list), [[0, "running"]]);
  assert.equal(list[0].restarts, 0);
  assert.equal(totalRequests(list), 5);
  assert.ok(!Number.isNaN(Date.parse(list[0].startedAt)));
});

for (const bad of ["0", "two", "-1"]) {
  Deno.test(`--workers ${bad} exits 2 naming --workers`, async () => {
    const out = await runDeno("main.ts", ["--backends", "http://127.0.0.1:9", "--workers", bad]);
    assert.equal(out.code, 2, out.stdout + out.stderr);
    assert.match(out.stderr, /--workers/);
  });
}
