/**
 * The policies' shared resources across generations: what a new generation
 * still asks for is kept, what it doesn't is closed once the old one's
 * requests have had their time, and shutdown closes everything.
 */

import assert from "node:assert/strict";
import { PolicyRuntime } from "../../lib/policy/runtime.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { log } from "../../lib/core/logging.ts";

function resource(name: string, closed: string[]) {
  return { name, close: () => void closed.push(name) };
}

Deno.test("PolicyRuntime: a reload keeps what the new generation asks for and retires the rest after the grace time", async () => {
  const closed: string[] = [];
  const runtime = new PolicyRuntime({ metrics: createLbMetrics(), log: log("test") });
  const { shared } = runtime.deps;
  const first = runtime.generation(() => ({
    redis: shared("redis:a", () => resource("redis:a", closed)),
    table: shared("table:api", () => resource("table:api", closed)),
  }), 20);
  const second = runtime.generation(() => ({
    table: shared("table:api", () => resource("table:api (new)", closed)),
    redis: shared("redis:b", () => resource("redis:b", closed)),
  }), 20);
  assert.equal(second.table, first.table, "kept across the reload: the same table");
  assert.deepEqual(closed, [], "nothing closed while the old generation may still run");
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(closed, ["redis:a"]);
  // A retired key asked for again later is made anew.
  const third = runtime.generation(
    () => shared("redis:a", () => resource("redis:a again", closed)),
    20,
  );
  assert.equal(third.name, "redis:a again");
  // Shutdown closes what is in use and what is retiring, at once.
  await runtime.close();
  assert.deepEqual(closed.sort(), ["redis:a", "redis:a again", "redis:b", "table:api"]);
});
