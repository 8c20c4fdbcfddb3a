/** Helpers shared by the strategy tests: backends, pick contexts, a seeded PRNG, counting. */

import { Backend } from "../lib/pool/pool.ts";
import { createStrategy, type PickContext, type Strategy } from "../lib/balancing/mod.ts";
import type { HeaderPairs } from "../lib/core/transport.ts";
import type { BalancingConfig } from "../lib/config/types.ts";
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

/** The `--ewma-decay` default (10 s), for backends made here. */
export const EWMA_DECAY_MS = 10_000;

/** One backend on 127.0.0.1:`port`. */
export function backend(port: number, weight = 1): Backend {
  return new Backend(
    { origin: `http://127.0.0.1:${port}`, hostname: "127.0.0.1", port, weight },
    0,
    EWMA_DECAY_MS,
  );
}

/** Backends on ports 1..n, weighted by `weights` (1 each by default). */
export function backends(n: number, weights: readonly number[] = []): Backend[] {
  return Array.from({ length: n }, (_, i) => backend(i + 1, weights[i] ?? 1));
}

/** Puts `n` more requests in flight on `b` (as the proxy does, through `begin()`). */
export function load(b: Backend, n: number): Backend {
  for (let i = 0; i < n; i++) b.begin();
  return b;
}

/** Port numbers of the picks, for readable assertions. */
export function ports(picks: readonly (Backend | undefined)[]): (number | undefined)[] {
  return picks.map((b) => b?.spec.port);
}

/**
 * The field `consistent-hash` takes its key from in these tests
 * (`--hash-key header:x-hash-key`), so a request can carry a key or none.
 */
export const HASH_HEADER = "x-hash-key";

/** Balancing settings of the strategies {@link seeded} makes. */
export function balancing(overrides: Partial<BalancingConfig> = {}): BalancingConfig {
  return {
    hashKey: { kind: "header", name: HASH_HEADER },
    stickyCookieName: "lb_sticky",
    stickySecret: "test-secret",
    stickySecretGenerated: false,
    ewmaDecayMs: EWMA_DECAY_MS,
    slowStartMs: 0,
    ...overrides,
  };
}

/** A strategy with a seeded PRNG and a fixed sticky secret. */
export function seeded(
  name: StrategyName,
  seed = 1,
  secret = "test-secret",
  settings: Partial<BalancingConfig> = {},
): Strategy {
  return createStrategy(name, {
    random: mulberry32(seed),
    balancing: balancing({ stickySecret: secret, ...settings }),
  });
}

/** What a test says about one pick; everything is optional. */
export interface PickSpec {
  readonly now?: number;
  readonly exclude?: ReadonlySet<Backend>;
  /** The hash key, sent as {@link HASH_HEADER}; no such field when undefined. */
  readonly key?: string;
  /** A `Cookie` field's value; no such field when undefined. */
  readonly cookie?: string;
  /** More fields, after those. */
  readonly headers?: HeaderPairs;
  readonly clientIp?: string;
  readonly path?: string;
}

/** A pick context at time 0 from 192.0.2.1 for `/`, with what `spec` adds. */
export function ctx(spec: PickSpec = {}): PickContext {
  const headers: HeaderPairs = [["host", "lb.test"]];
  if (spec.key !== undefined) headers.push([HASH_HEADER, spec.key]);
  if (spec.cookie !== undefined) headers.push(["cookie", spec.cookie]);
  if (spec.headers) headers.push(...spec.headers);
  return {
    now: spec.now ?? 0,
    exclude: spec.exclude,
    request: { headers, clientIp: spec.clientIp ?? "192.0.2.1", path: spec.path ?? "/" },
  };
}

/** Each backend's share of `picks`, in the order of `all`. */
export function shares(all: readonly Backend[], picks: readonly (Backend | undefined)[]): number[] {
  return all.map((b) => picks.filter((p) => p === b).length / picks.length);
}
