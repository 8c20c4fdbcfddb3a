/**
 * The supervisor's lifecycle with stand-in workers (`fixtures/stand_in_worker.ts`):
 * a worker that crashes or stops answering its heartbeat is replaced and
 * counted, one killed through the API likewise, and shutdown ends them all.
 */

import assert from "node:assert/strict";
import { createLbMetrics } from "../lib/metrics/lb_metrics.ts";
import { Supervisor } from "../lib/server/supervisor.ts";
import { LbConfigForTests } from "./_supervisor.ts";

function supervisor(mode: string, count = 2, deadMs = 400) {
  const metrics = createLbMetrics();
  const logged: string[] = [];
  const current = { config: { ...LbConfigForTests, port: 1111 } };
  const s = new Supervisor({
    count,
    config: () => current.config,
    members: () => ({}),
    onReport: () => {},
    metrics,
    log: { error: (m: string) => logged.push(m) } as never,
    heartbeat: { everyMs: 50, deadMs },
    module: new URL(`./fixtures/stand_in_worker.ts?mode=${mode}`, import.meta.url),
  });
  return { s, metrics, logged, current };
}

async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const restarts = (m: ReturnType<typeof createLbMetrics>, worker: string, reason: string) =>
  m.workerRestarts.labels(worker, reason).value;

Deno.test("supervisor: every worker starts; stats come from each", async () => {
  const { s } = supervisor("answer");
  await s.start();
  const stats = await s.collect();
  assert.equal(stats.length, 2);
  // The stand-in reports its configuration's port as its request count.
  const views = s.views.map((v) => [v.id, v.state, v.requests]);
  assert.deepEqual(views, [[1, "running", 1111], [2, "running", 1111]]);
  assert.equal(await s.shutdown(1000), true);
});

Deno.test("supervisor: a worker that crashes is replaced and counted as crashed", async () => {
  const { s, metrics } = supervisor("crash", 1);
  await s.start();
  await s.collect(); // the stand-in throws on this request
  await until("the restart", () => s.views[0].restarts === 1 && s.views[0].state === "running");
  assert.equal(restarts(metrics, "1", "crashed"), 1);
  await s.shutdown(1000);
});

Deno.test("supervisor: a worker that stops answering its heartbeat is replaced as unresponsive", async () => {
  const { s, metrics } = supervisor("hang", 1);
  await s.start();
  void s.collect(); // blocks the stand-in's event loop for 1.5 s
  await until("the restart", () => restarts(metrics, "1", "unresponsive") === 1);
  await until("the new worker", () => s.views[0].state === "running");
  await s.shutdown(1000);
});

Deno.test("supervisor: kill ends one worker and replaces it; unknown ids and stopped supervisors refuse", async () => {
  const { s, metrics } = supervisor("answer");
  await s.start();
  assert.equal(s.kill(3), false);
  assert.equal(s.kill(2), true);
  assert.equal(s.views[1].state, "restarting");
  assert.equal(s.kill(2), false, "not twice while it restarts");
  await until("the replacement", () => s.views[1].state === "running");
  assert.equal(restarts(metrics, "2", "killed"), 1);
  assert.equal(s.views[0].restarts, 0);
  await s.shutdown(1000);
  assert.equal(s.kill(1), false);
});

Deno.test("supervisor: a worker that was starting during a reload catches up with it", async () => {
  const { s, current } = supervisor("slow");
  await s.start();
  assert.equal(s.kill(2), true);
  // Its replacement is spawned after 100 ms and is ready 300 ms later.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.views[1].state, "restarting");
  current.config = { ...current.config, port: 2222 };
  assert.deepEqual(await s.reconfigure(current.config, {}), []);
  await until("the replacement", () => s.views[1].state === "running");
  await until("both on the new generation", () => {
    void s.collect();
    return s.views.every((v) => v.requests === 2222);
  });
  await s.shutdown(1000);
});

Deno.test("supervisor: a worker slower to start than the heartbeat's deadline is not taken for dead", async () => {
  // The stand-in is ready 300 ms after it starts; the deadline is 200 ms.
  const { s, metrics } = supervisor("slow", 1, 200);
  await s.start();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.views[0].state, "running");
  assert.equal(restarts(metrics, "1", "unresponsive"), 0);
  await s.shutdown(1000);
});
