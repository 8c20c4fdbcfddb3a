/**
 * A custom strategy: pool `web` prefers backends whose metadata says
 * `zone: local`, and falls back to the others only when no local one is
 * healthy (or all were tried). It is typed against the library's `Strategy`
 * interface and installed by the `strategy` hook. Run with
 * `deno run -A examples/custom_strategy.ts`.
 *
 * @module
 */

import {
  type Backend,
  createStrategy,
  parseConfig,
  type PickContext,
  startLoadBalancer,
  type Strategy,
} from "../mod.ts";
import { backend, LOOPBACK } from "./_backends.ts";

/** Local backends first, round-robin among them; the pool's usual strategy for the rest. */
class ZoneFirst implements Strategy {
  constructor(readonly zone: string, readonly fallback: Strategy) {}

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const local = snapshot.filter((b) => b.spec.metadata?.zone === this.zone);
    return this.fallback.pick(local, ctx) ?? this.fallback.pick(snapshot, ctx);
  }
}

await using near = backend("near");
await using far = backend("far");
const config = parseConfig({
  ...LOOPBACK,
  pools: {
    web: {
      backends: [
        { url: near.url, metadata: { zone: "local" } },
        { url: far.url, metadata: { zone: "remote" } },
      ],
    },
  },
});
const lb = startLoadBalancer(config, {
  hooks: {
    strategy: (pool, options) =>
      pool.name === "web"
        ? new ZoneFirst("local", createStrategy("round-robin", options))
        : undefined,
  },
});
const url = `http://127.0.0.1:${lb.addr!.port}/`;
const seen: string[] = [];
for (let i = 0; i < 4; i++) seen.push((await (await fetch(url)).text()).split(" ")[0]);
console.log(`four requests went to: ${seen.join(", ")}`);
await lb.shutdown();
