/**
 * A reload with `--workers 2` applies to both workers and fails no request:
 * the config file's backend set is replaced while eight clients send on
 * fresh connections; afterwards both workers route to the new set; SIGHUP
 * re-reads the file the same way.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import {
  byBody,
  failures,
  hits,
  metricsText,
  metricSum,
  moreResults,
  namedBackend,
  sleep,
  startLoad,
  startWorkersLb,
  workers,
} from "./_workers.ts";

/** Time a reload may take to reach the workers after the main thread logs it. */
const APPLY_MS = 100;

async function writeConfig(path: string, config: unknown): Promise<void> {
  // Write and rename, as editors and Kubernetes ConfigMaps do.
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(config));
  await Deno.rename(`${path}.tmp`, path);
}

Deno.test("--workers 2: a config reload under load fails no request and moves both workers to the new backends", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using c = namedBackend("c");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await writeConfig(path, { backends: [a.origin] });
    await using lb = await startWorkersLb([], { extra: ["--config", path] });

    const load = startLoad(lb.port);
    try {
      await moreResults(load, 60);
      await writeConfig(path, { backends: [b.origin, c.origin] });
      await lb.proc.waitForLine(/configuration reloaded/, 5000);
      const reloadedAt = performance.now();
      await moreResults(load, 150);
      await sleep(APPLY_MS);

      lb.proc.signal("SIGHUP");
      await lb.proc.waitForLine(/configuration reloaded.*SIGHUP/, 5000);
      await moreResults(load, 100);
      await load.stop();

      assert.deepEqual(failures(load.results), [], `of ${load.results.length} requests`);
      assert.ok(load.results.some((r) => r.body === "a"), "no request before the reload");
      const late = load.results.filter((r) => r.started > reloadedAt + APPLY_MS);
      assert.ok(late.length >= 100, `only ${late.length} requests after the reload`);
      const old = late.filter((r) => r.body === "a").length;
      assert.equal(old, 0, `${old} requests went to the removed backend after the reload`);
    } finally {
      await load.stop();
    }

    // Both workers answer, and every answer comes from the new set.
    const before = await workers(lb);
    const after = await hits(lb.port, 60);
    assert.deepEqual(failures(after), []);
    const tally = byBody(after);
    assert.deepEqual(Object.keys(tally).sort(), ["b", "c"], JSON.stringify(tally));
    await waitFor(
      async () => (await workers(lb)).every((w, i) => w.requests > before[i].requests),
      3000,
      "both workers to answer after the reload",
    );
    const text = await metricsText(lb);
    assert.equal(metricSum(text, "lb_config_reloads_total", { result: "success" }), 2);
    assert.equal(metricSum(text, "lb_config_reloads_total", { result: "failure" }), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
