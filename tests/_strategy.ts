/** Helpers shared by the strategy tests: backends, a seeded PRNG, counting. */

import { Backend } from "../lib/pool/pool.ts";
import { createStrategy, type Strategy } from "../lib/balancing/mod.ts";
import type { StrategyName } from "../lib/config/names.ts";

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1), so every run picks the same. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One backend on 127.0.0.1:`port`. */
export function backend(port: number, weight = 1): Backend {
  return new Backend(
    { origin: `http://127.0.0.1:${port}`, hostname: "127.0.0.1", port, weight },
    0,
  );
}

/** Backends on ports 1..n, weighted by `weights` (1 each by default). */
export function backends(n: number, weights: readonly number[] = []): Backend[] {
  return Array.from({ length: n }, (_, i) => backend(i + 1, weights[i] ?? 1));
}

/** Port numbers of the picks, for readable assertions. */
export function ports(picks: readonly (Backend | undefined)[]): (number | undefined)[] {
  return picks.map((b) => b?.spec.port);
}

/** A strategy with a seeded PRNG and a fixed sticky secret. */
export function seeded(name: StrategyName, seed = 1, secret = "test-secret"): Strategy {
  return createStrategy(name, {
    random: mulberry32(seed),
    stickyCookieName: "lb_sticky",
    stickySecret: secret,
  });
}

/** Each backend's share of `picks`, in the order of `all`. */
export function shares(all: readonly Backend[], picks: readonly (Backend | undefined)[]): number[] {
  return all.map((b) => picks.filter((p) => p === b).length / picks.length);
}
