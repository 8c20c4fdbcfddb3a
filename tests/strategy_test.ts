import assert from "node:assert/strict";
import fc from "fast-check";
import { Backend } from "../lib/pool.ts";
import { createStrategy, STRATEGY_NAMES, type StrategyName } from "../lib/strategy/mod.ts";

function backends(n: number): Backend[] {
  return Array.from(
    { length: n },
    (_, i) =>
      new Backend({ origin: `http://127.0.0.1:${i + 1}`, hostname: "127.0.0.1", port: i + 1 }, 0),
  );
}

/** Port numbers of the picks, for readable assertions. */
function ports(picks: (Backend | undefined)[]): (number | undefined)[] {
  return picks.map((b) => b?.spec.port);
}

/**
 * What every strategy must do, whatever its policy. Distribution is left to
 * each strategy's own tests: a least-loaded or hashing policy may pick the
 * same backend every time when nothing tells the backends apart.
 */
function strategyConformance(name: StrategyName): void {
  Deno.test(`${name} (conformance): an empty snapshot gives undefined`, () => {
    const s = createStrategy(name);
    assert.equal(s.pick([], {}), undefined);
    assert.equal(s.pick([], { exclude: new Set() }), undefined);
  });

  Deno.test(`${name} (conformance): a single backend is always picked`, () => {
    const s = createStrategy(name);
    const [only] = backends(1);
    for (let i = 0; i < 10; i++) assert.equal(s.pick([only], {}), only);
  });

  Deno.test(`${name} (conformance): all backends excluded gives undefined`, () => {
    const s = createStrategy(name);
    const all = backends(3);
    assert.equal(s.pick(all, { exclude: new Set(all) }), undefined);
  });

  Deno.test(`${name} (conformance): exclude leaves only the one not yet tried`, () => {
    const s = createStrategy(name);
    const all = backends(3);
    for (const remaining of all) {
      const exclude = new Set(all.filter((b) => b !== remaining));
      assert.equal(s.pick(all, { exclude }), remaining);
    }
  });

  Deno.test(`${name} (conformance): retries walk every backend once, then give up`, () => {
    const s = createStrategy(name);
    const all = backends(4);
    const tried = new Set<Backend>();
    for (let i = 0; i < all.length; i++) {
      const b = s.pick(all, { exclude: tried });
      assert.ok(b && !tried.has(b));
      tried.add(b);
    }
    assert.equal(s.pick(all, { exclude: tried }), undefined);
  });

  Deno.test(`${name} (conformance): the snapshot is not mutated`, () => {
    const s = createStrategy(name);
    const snapshot = Object.freeze(backends(3));
    for (let i = 0; i < 10; i++) s.pick(snapshot, { exclude: new Set([snapshot[0]]) });
    assert.deepEqual(ports([...snapshot]), [1, 2, 3]);
  });

  Deno.test(
    `${name} (conformance, property): over changing snapshots, a pick is an eligible member or undefined when none is`,
    () => {
      const pool = backends(6);
      const step = fc.record({
        inSnapshot: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        excluded: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      });
      fc.assert(
        fc.property(fc.array(step, { maxLength: 50 }), (steps) => {
          const s = createStrategy(name);
          for (const { inSnapshot, excluded } of steps) {
            const snapshot = pool.filter((_, i) => inSnapshot[i]);
            const exclude = new Set(pool.filter((_, i) => excluded[i]));
            const eligible = snapshot.filter((b) => !exclude.has(b));
            const picked = s.pick(snapshot, { exclude });
            if (eligible.length === 0) assert.equal(picked, undefined);
            else assert.ok(picked && eligible.includes(picked));
          }
        }),
      );
    },
  );
}

for (const name of STRATEGY_NAMES) strategyConformance(name);

// --- round-robin ------------------------------------------------------------

Deno.test("round-robin rotates through three backends in order", () => {
  const s = createStrategy("round-robin");
  const all = backends(3);
  assert.deepEqual(ports(Array.from({ length: 7 }, () => s.pick(all, {}))), [1, 2, 3, 1, 2, 3, 1]);
});

Deno.test("round-robin: an excluded backend is skipped and the rotation continues after the pick", () => {
  const s = createStrategy("round-robin");
  const all = backends(3);
  assert.equal(s.pick(all, {})?.spec.port, 1);
  assert.equal(s.pick(all, { exclude: new Set([all[1]]) })?.spec.port, 3);
  assert.equal(s.pick(all, {})?.spec.port, 1);
});

Deno.test("round-robin: all excluded does not advance the rotation", () => {
  const s = createStrategy("round-robin");
  const all = backends(3);
  s.pick(all, {});
  assert.equal(s.pick(all, { exclude: new Set(all) }), undefined);
  assert.equal(s.pick(all, {})?.spec.port, 2);
});

Deno.test("round-robin: a backend leaving the snapshot does not restart the rotation", () => {
  const s = createStrategy("round-robin");
  const [a, b, c] = backends(3);
  assert.equal(s.pick([a, b, c], {}), a);
  // c goes down: a reset would pick a again.
  assert.deepEqual(ports([s.pick([a, b], {}), s.pick([a, b], {}), s.pick([a, b], {})]), [2, 1, 2]);
});

Deno.test("round-robin: after the snapshot shrinks, every remaining backend is picked within one round", () => {
  const all = backends(5);
  for (let before = 0; before < 10; before++) {
    for (let gone = 0; gone < all.length; gone++) {
      const s = createStrategy("round-robin");
      for (let i = 0; i < before; i++) s.pick(all, {});
      const rest = all.filter((_, i) => i !== gone);
      const picks = new Set(Array.from({ length: rest.length }, () => s.pick(rest, {})));
      assert.equal(picks.size, rest.length, `after ${before} picks, without backend ${gone + 1}`);
    }
  }
});

Deno.test("round-robin: a backend rejoining the snapshot is picked within one round", () => {
  const s = createStrategy("round-robin");
  const [a, b, c] = backends(3);
  for (let i = 0; i < 5; i++) s.pick([a, b], {});
  const picks = new Set(Array.from({ length: 3 }, () => s.pick([a, b, c], {})));
  assert.equal(picks.size, 3);
});

Deno.test("round-robin: 3000 picks over 3 backends give exactly 1000 each", () => {
  const s = createStrategy("round-robin");
  const all = backends(3);
  const counts = new Map<Backend, number>();
  for (let i = 0; i < 3000; i++) {
    const b = s.pick(all, {})!;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  assert.deepEqual(all.map((b) => counts.get(b)), [1000, 1000, 1000]);
});

Deno.test("round-robin: instances keep separate rotations", () => {
  const all = backends(3);
  const s1 = createStrategy("round-robin");
  const s2 = createStrategy("round-robin");
  s1.pick(all, {});
  s1.pick(all, {});
  assert.equal(s2.pick(all, {}), all[0]);
});
