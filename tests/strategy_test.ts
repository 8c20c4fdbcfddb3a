/**
 * The conformance suite every strategy passes, whatever its policy. Policy
 * specifics are in strategy_policies_test.ts.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Backend } from "../lib/pool/pool.ts";
import type { PickContext, Strategy } from "../lib/balancing/mod.ts";
import { STRATEGY_NAMES, type StrategyName } from "../lib/config/names.ts";
import { backends, ctx, mulberry32, ports, seeded, shares } from "./_strategy.ts";

/** A request context: a fresh random hash key (ignored but by consistent-hash), no cookie. */
function request(random: () => number, exclude?: ReadonlySet<Backend>): PickContext {
  return ctx({ exclude, key: `key-${Math.floor(random() * 2 ** 32)}` });
}

/** Requests kept in flight while the picks of {@link underLoad} run. */
const CONCURRENCY = 40;

/**
 * `count` picks with {@link CONCURRENCY} requests in flight, a random one
 * finishing after each pick, so (as with equal latencies) a backend's
 * throughput follows its in-flight count. Without load, a least-loaded policy
 * would send everything to the heaviest idle backend.
 */
function underLoad(s: Strategy, snapshot: readonly Backend[], count: number): Backend[] {
  const random = mulberry32(99);
  const open: Backend[] = [];
  const picks: Backend[] = [];
  for (let i = 0; i < count; i++) {
    const b = s.pick(snapshot, request(random));
    assert.ok(b);
    b.begin();
    open.push(b);
    picks.push(b);
    if (open.length > CONCURRENCY) {
      const k = Math.floor(random() * open.length);
      open[k].settle();
      open[k] = open[open.length - 1];
      open.pop();
    }
  }
  for (const b of open) b.settle();
  return picks;
}

function assertNear(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${(actual * 100).toFixed(2)}%, expected ${expected * 100}% ± ${tolerance * 100}%`,
  );
}

function strategyConformance(name: StrategyName): void {
  Deno.test(`${name} (conformance): an empty snapshot gives undefined`, () => {
    const s = seeded(name);
    assert.equal(s.pick([], ctx()), undefined);
    assert.equal(s.pick([], ctx({ exclude: new Set(), key: "k", cookie: "a=b" })), undefined);
  });

  Deno.test(`${name} (conformance): a single backend is always picked`, () => {
    const s = seeded(name);
    const random = mulberry32(2);
    const [only] = backends(1);
    for (let i = 0; i < 10; i++) assert.equal(s.pick([only], request(random)), only);
  });

  Deno.test(`${name} (conformance): all backends excluded gives undefined`, () => {
    const s = seeded(name);
    const all = backends(3);
    assert.equal(s.pick(all, request(mulberry32(3), new Set(all))), undefined);
  });

  Deno.test(`${name} (conformance): exclude leaves only the one not yet tried`, () => {
    const s = seeded(name);
    const random = mulberry32(4);
    const all = backends(3);
    for (const remaining of all) {
      const exclude = new Set(all.filter((b) => b !== remaining));
      for (let i = 0; i < 10; i++) assert.equal(s.pick(all, request(random, exclude)), remaining);
    }
  });

  Deno.test(`${name} (conformance): retries walk every backend once, then give up`, () => {
    const s = seeded(name);
    const random = mulberry32(5);
    const all = backends(4);
    for (let round = 0; round < 20; round++) {
      const ctx = request(random);
      const tried = new Set<Backend>();
      for (let i = 0; i < all.length; i++) {
        const b = s.pick(all, { ...ctx, exclude: tried });
        assert.ok(b && !tried.has(b), `attempt ${i + 1} of request ${round + 1}`);
        tried.add(b);
      }
      assert.equal(s.pick(all, { ...ctx, exclude: tried }), undefined);
    }
  });

  Deno.test(`${name} (conformance): the snapshot is not mutated`, () => {
    const s = seeded(name);
    const random = mulberry32(6);
    const snapshot = Object.freeze(backends(3));
    for (let i = 0; i < 10; i++) s.pick(snapshot, request(random, new Set([snapshot[0]])));
    assert.deepEqual(ports(snapshot), [1, 2, 3]);
  });

  Deno.test(`${name} (conformance): weights 3:1 give the heavy backend 75% ± 5%`, () => {
    const all = backends(2, [3, 1]);
    const [heavy] = shares(all, underLoad(seeded(name), all, 20_000));
    assertNear(heavy, 0.75, 0.05, `${name}, heavy backend`);
  });

  Deno.test(`${name} (conformance): effective weight counts, not the configured one`, () => {
    // Slow start lowers effectiveWeight while the configured weight stays.
    const all = backends(2, [1, 1]);
    all[1].effectiveWeight = 1 / 3;
    const [full] = shares(all, underLoad(seeded(name), all, 20_000));
    assertNear(full, 0.75, 0.05, `${name}, backend at full weight`);
  });

  Deno.test(`${name} (conformance): a backend of effective weight 0 is picked only when it is all that is left`, () => {
    const s = seeded(name);
    const random = mulberry32(7);
    const all = backends(3);
    all[1].effectiveWeight = 0;
    for (let i = 0; i < 200; i++) assert.notEqual(s.pick(all, request(random)), all[1]);
    assert.equal(s.pick(all, request(random, new Set([all[0], all[2]]))), all[1]);
    for (const b of all) b.effectiveWeight = 0;
    assert.equal(new Set(underLoad(s, all, 300)).size, 3, "all weightless: each gets picked");
  });

  Deno.test(`${name} (conformance): equal weights give each of 4 backends 25% ± 3%`, () => {
    const all = backends(4);
    for (const [i, share] of shares(all, underLoad(seeded(name), all, 20_000)).entries()) {
      assertNear(share, 0.25, 0.03, `${name}, backend ${i + 1}`);
    }
  });

  Deno.test(
    `${name} (conformance, property): over changing snapshots, a pick is an eligible member or undefined when none is`,
    () => {
      const pool = backends(6);
      const step = fc.record({
        inSnapshot: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        excluded: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        hashKey: fc.option(fc.string(), { nil: undefined }),
        now: fc.nat(),
      });
      fc.assert(
        fc.property(fc.integer(), fc.array(step, { maxLength: 50 }), (seed, steps) => {
          const s = seeded(name, seed);
          for (const { inSnapshot, excluded, hashKey, now } of steps) {
            const snapshot = pool.filter((_, i) => inSnapshot[i]);
            const exclude = new Set(pool.filter((_, i) => excluded[i]));
            const eligible = snapshot.filter((b) => !exclude.has(b));
            const picked = s.pick(snapshot, ctx({ now, exclude, key: hashKey }));
            if (eligible.length === 0) assert.equal(picked, undefined);
            else assert.ok(picked && eligible.includes(picked));
          }
        }),
        // consistent-hash builds a 65,537-slot table (~3 ms) for every new snapshot.
        { numRuns: name === "consistent-hash" ? 25 : 100 },
      );
    },
  );
}

for (const name of STRATEGY_NAMES) strategyConformance(name);
