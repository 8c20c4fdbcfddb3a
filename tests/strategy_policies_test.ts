/** What each balancing policy does beyond the shared conformance suite. */

import assert from "node:assert/strict";
import type { Backend } from "../lib/pool/pool.ts";
import { createStrategy } from "../lib/balancing/mod.ts";
import { drawTwo } from "../lib/balancing/p2c_ewma.ts";
import { hash32, maglevTable } from "../lib/balancing/maglev.ts";
import { cookieValue } from "../lib/balancing/request_key.ts";
import { stickyValue } from "../lib/balancing/sticky_cookie.ts";
import {
  backend,
  backends,
  balancing,
  ctx,
  load,
  mulberry32,
  ports,
  seeded,
  shares,
} from "./_strategy.ts";

/** A request with no hash key and no cookie, at time 0. */
const NOW = ctx();

// --- round-robin ------------------------------------------------------------

Deno.test("round-robin: weights 5:1:1 interleave as a a b a c a a, cycle after cycle", () => {
  const s = seeded("round-robin");
  const all = backends(3, [5, 1, 1]);
  const picks = ports(Array.from({ length: 21 }, () => s.pick(all, NOW)));
  const cycle = [1, 1, 2, 1, 3, 1, 1];
  assert.deepEqual(picks, [...cycle, ...cycle, ...cycle]);
});

Deno.test("round-robin rotates through three backends of equal weight in order", () => {
  const s = seeded("round-robin");
  const all = backends(3);
  assert.deepEqual(ports(Array.from({ length: 7 }, () => s.pick(all, NOW))), [1, 2, 3, 1, 2, 3, 1]);
});

Deno.test("round-robin: an excluded backend is skipped without losing its turn", () => {
  const s = seeded("round-robin");
  const all = backends(3);
  assert.equal(s.pick(all, NOW)?.spec.port, 1);
  // 2 is tried elsewhere in this request (a retry); it keeps its credit and comes next.
  assert.equal(s.pick(all, ctx({ exclude: new Set([all[1]]) }))?.spec.port, 3);
  assert.deepEqual(ports([s.pick(all, NOW), s.pick(all, NOW), s.pick(all, NOW)]), [2, 3, 1]);
});

Deno.test("round-robin: all excluded does not advance the rotation", () => {
  const s = seeded("round-robin");
  const all = backends(3);
  s.pick(all, NOW);
  assert.equal(s.pick(all, ctx({ exclude: new Set(all) })), undefined);
  assert.equal(s.pick(all, NOW)?.spec.port, 2);
});

Deno.test("round-robin: a backend leaving the snapshot does not restart the rotation", () => {
  const s = seeded("round-robin");
  const [a, b, c] = backends(3);
  assert.equal(s.pick([a, b, c], NOW), a);
  // c goes down: a reset would pick a again.
  assert.deepEqual(ports([s.pick([a, b], NOW), s.pick([a, b], NOW), s.pick([a, b], NOW)]), [
    2,
    1,
    2,
  ]);
});

Deno.test("round-robin: after the snapshot shrinks, every remaining backend is picked within one round", () => {
  const all = backends(5);
  for (let before = 0; before < 10; before++) {
    for (let gone = 0; gone < all.length; gone++) {
      const s = seeded("round-robin");
      for (let i = 0; i < before; i++) s.pick(all, NOW);
      const rest = all.filter((_, i) => i !== gone);
      const picks = new Set(Array.from({ length: rest.length }, () => s.pick(rest, NOW)));
      assert.equal(picks.size, rest.length, `after ${before} picks, without backend ${gone + 1}`);
    }
  }
});

Deno.test("round-robin: a backend rejoining the snapshot is picked within one round", () => {
  const s = seeded("round-robin");
  const [a, b, c] = backends(3);
  for (let i = 0; i < 5; i++) s.pick([a, b], NOW);
  const picks = new Set(Array.from({ length: 3 }, () => s.pick([a, b, c], NOW)));
  assert.equal(picks.size, 3);
});

Deno.test("round-robin: 3000 picks over weights 1:2:3 give exactly 500, 1000, 1500", () => {
  const s = seeded("round-robin");
  const all = backends(3, [1, 2, 3]);
  const picks = Array.from({ length: 3000 }, () => s.pick(all, NOW));
  assert.deepEqual(shares(all, picks).map((x) => x * 3000), [500, 1000, 1500]);
});

Deno.test("round-robin: instances keep separate rotations", () => {
  const all = backends(3);
  const s1 = seeded("round-robin");
  const s2 = seeded("round-robin");
  s1.pick(all, NOW);
  s1.pick(all, NOW);
  assert.equal(s2.pick(all, NOW), all[0]);
});

// --- least-connections -------------------------------------------------------

function withInFlight(counts: readonly number[], weights: readonly number[] = []): Backend[] {
  const all = backends(counts.length, weights);
  all.forEach((b, i) => load(b, counts[i]));
  return all;
}

Deno.test("least-connections picks the backend with the fewest requests in flight", () => {
  const s = seeded("least-connections");
  const all = withInFlight([3, 1, 2]);
  for (let i = 0; i < 20; i++) assert.equal(s.pick(all, NOW), all[1]);
});

Deno.test("least-connections weighs by (inFlight + 1) / effectiveWeight", () => {
  const s = seeded("least-connections");
  // (2 + 1) / 2 = 1.5 beats (1 + 1) / 1 = 2, though it has more in flight.
  assert.equal(s.pick(withInFlight([2, 1], [2, 1]), NOW)?.spec.port, 1);
  // Idle backends: the heavier one first (inFlight / weight would tie them at 0).
  assert.equal(s.pick(withInFlight([0, 0], [1, 3]), NOW)?.spec.port, 2);
});

Deno.test("least-connections breaks ties uniformly among the minima only", () => {
  const s = seeded("least-connections", 7);
  const all = withInFlight([2, 0, 5, 0]);
  const picks = Array.from({ length: 10_000 }, () => s.pick(all, NOW));
  const [one, two, three, four] = shares(all, picks);
  assert.equal(one + three, 0);
  assert.ok(Math.abs(two - 0.5) < 0.02 && Math.abs(four - 0.5) < 0.02, `${two} / ${four}`);
});

Deno.test("least-connections: three tied minima each get a third", () => {
  const s = seeded("least-connections", 8);
  const all = withInFlight([1, 1, 4, 1]);
  const got = shares(all, Array.from({ length: 9_000 }, () => s.pick(all, NOW)));
  for (const i of [0, 1, 3]) {
    assert.ok(Math.abs(got[i] - 1 / 3) < 0.02, `backend ${i + 1}: ${got[i]}`);
  }
  assert.equal(got[2], 0);
});

// --- p2c-ewma -----------------------------------------------------------------

Deno.test("p2c-ewma: the two choices are distinct and every pair is equally likely", () => {
  const random = mulberry32(11);
  const n = 5;
  const pairs = new Map<string, number>();
  const firsts = new Array(n).fill(0);
  const draws = 100_000;
  for (let k = 0; k < draws; k++) {
    const [i, j] = drawTwo(n, random);
    assert.ok(i !== j && i >= 0 && j >= 0 && i < n && j < n);
    firsts[i]++;
    const key = `${Math.min(i, j)}-${Math.max(i, j)}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  assert.equal(pairs.size, 10);
  for (const [pair, count] of pairs) {
    assert.ok(Math.abs(count / draws - 0.1) < 0.005, `pair ${pair}: ${count / draws}`);
  }
  for (const count of firsts) assert.ok(Math.abs(count / draws - 0.2) < 0.005);
});

Deno.test("p2c-ewma: the lower latency × (inFlight + 1) / weight wins", () => {
  const s = seeded("p2c-ewma");
  const [a, b] = backends(2);
  a.ewma.observe(5, 0); // 5 × 1 = 5
  b.ewma.observe(1, 0);
  load(b, 3); // 1 × 4 = 4
  for (let i = 0; i < 20; i++) assert.equal(s.pick([a, b], NOW), b);
  load(b, 2); // 5 in flight: 1 × 6 = 6
  for (let i = 0; i < 20; i++) assert.equal(s.pick([a, b], NOW), a);
});

Deno.test("p2c-ewma: the worst of three is never picked; the others share the traffic", () => {
  const s = seeded("p2c-ewma", 12);
  const all = withInFlight([0, 5, 0]);
  const got = shares(all, Array.from({ length: 9_000 }, () => s.pick(all, NOW)));
  assert.equal(got[1], 0);
  assert.ok(Math.abs(got[0] - 0.5) < 0.02, `${got[0]}`);
});

Deno.test("p2c-ewma: a backend without latency history counts as fast as its rival", () => {
  const s = seeded("p2c-ewma");
  const [seasoned, fresh] = backends(2);
  seasoned.ewma.observe(50, 0);
  // Scoring the fresh one 0 would send it every request until its first answer.
  load(fresh, 2);
  for (let i = 0; i < 20; i++) assert.equal(s.pick([seasoned, fresh], NOW), seasoned);
});

Deno.test("p2c-ewma: a latency spike loses a backend its traffic until the EWMA decays", () => {
  const s = seeded("p2c-ewma", 13);
  const all = backends(3);
  const [, , spiky] = all;
  for (const b of all) b.ewma.observe(10, 0);
  spiky.ewma.observe(1_000, 0);
  // One request every 10 ms; each pick reports 10 ms back, so only the
  // backends that get traffic refresh their estimate (τ = 10 s).
  const window = (from: number, to: number) => {
    const picks: Backend[] = [];
    for (let now = from; now < to; now += 10) {
      const b = s.pick(all, ctx({ now }))!;
      b.ewma.observe(10, now);
      picks.push(b);
    }
    return shares(all, picks)[2];
  };
  // 20-second windows: none while the spike dominates, then a growing share.
  // Recovery takes ~100 s, not the 46 s until 1000 × e^(-t/10s) < 10: each
  // sparse sample is blended with what is left of the spike, so early wins
  // push the estimate back up and the gaps between them shrink gradually.
  const got = Array.from({ length: 8 }, (_, k) => window(k * 20_000, (k + 1) * 20_000));
  assert.equal(got[0], 0, "while the spike dominates");
  for (let k = 1; k < got.length; k++) assert.ok(got[k] >= got[k - 1] - 0.01, `${got}`);
  assert.ok(Math.abs(got[7] - 1 / 3) < 0.03, `after the decay: ${got}`);
});

// --- random -------------------------------------------------------------------

Deno.test("random: the draw lands on the backend whose weight it falls in", () => {
  const all = backends(2, [3, 1]);
  for (const [r, port] of [[0, 1], [0.74, 1], [0.76, 2], [0.999999, 2]] as const) {
    const s = createStrategy("random", { random: () => r, balancing: balancing() });
    assert.equal(s.pick(all, NOW)?.spec.port, port, `random() = ${r}`);
  }
});

// --- consistent-hash ------------------------------------------------------------

function keys(count: number, seed = 21): string[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => `client-${i}-${Math.floor(random() * 2 ** 32)}`);
}

function mapKeys(snapshot: readonly Backend[], ks: readonly string[]): (Backend | undefined)[] {
  const s = seeded("consistent-hash");
  return ks.map((key) => s.pick(snapshot, ctx({ key })));
}

Deno.test("consistent-hash: the same key goes to the same backend, on any replica", () => {
  const all = backends(5);
  const ks = keys(1_000);
  const first = mapKeys(all, ks);
  assert.deepEqual(mapKeys([...all], ks), first);
  const s = seeded("consistent-hash", 99);
  for (let i = 0; i < ks.length; i++) {
    assert.equal(s.pick(all, ctx({ key: ks[i] })), first[i]);
  }
});

Deno.test("consistent-hash: removing one of 5 backends keeps at least 75% of keys in place", () => {
  const all = backends(5);
  const ks = keys(10_000);
  const before = mapKeys(all, ks);
  const after = mapKeys(all.filter((_, i) => i !== 2), ks);
  const stayed = before.filter((b, i) => b === after[i]).length / ks.length;
  console.log(`consistent-hash: ${(stayed * 100).toFixed(2)}% of keys stayed (ideal 80%)`);
  assert.ok(stayed >= 0.75, `${stayed}`);
  // Every key of the removed backend moved, and only those had to.
  assert.ok(before.every((b, i) => b !== all[2] || after[i] !== all[2]));
});

Deno.test("consistent-hash: adding a sixth backend moves at most 25% of keys", () => {
  const all = backends(6);
  const ks = keys(10_000);
  const before = mapKeys(all.slice(0, 5), ks);
  const after = mapKeys(all, ks);
  const moved = before.filter((b, i) => b !== after[i]).length / ks.length;
  console.log(`consistent-hash: ${(moved * 100).toFixed(2)}% of keys moved (ideal 16.67%)`);
  assert.ok(moved <= 0.25, `${moved}`);
});

Deno.test("consistent-hash: a retry walks on to the same next backend every time", () => {
  const all = backends(5);
  const s1 = seeded("consistent-hash", 1);
  const s2 = seeded("consistent-hash", 2);
  for (const key of keys(200)) {
    const first = s1.pick(all, ctx({ key }))!;
    const exclude = new Set([first]);
    const second = s1.pick(all, ctx({ key, exclude }));
    assert.ok(second && second !== first);
    assert.equal(s1.pick(all, ctx({ key, exclude })), second);
    assert.equal(s2.pick(all, ctx({ key, exclude })), second);
  }
});

Deno.test("consistent-hash: a request without a key is placed by weighted random", () => {
  const s = seeded("consistent-hash", 22);
  const all = backends(2, [3, 1]);
  const [heavy] = shares(all, Array.from({ length: 20_000 }, () => s.pick(all, NOW)));
  assert.ok(Math.abs(heavy - 0.75) < 0.02, `${heavy}`);
});

Deno.test("consistent-hash: a change of effective weight (slow start) reshapes the table", () => {
  const s = seeded("consistent-hash");
  const all = backends(2);
  const ks = keys(10_000);
  const share = () => shares(all, ks.map((key) => s.pick(all, ctx({ key }))))[0];
  assert.ok(Math.abs(share() - 0.5) < 0.02);
  all[1].effectiveWeight = 1 / 3; // same snapshot array
  assert.ok(Math.abs(share() - 0.75) < 0.02);
});

Deno.test("consistent-hash: the key is read from the request where --hash-key says", () => {
  const all = backends(5);
  const ips = Array.from({ length: 200 }, (_, i) => `198.51.100.${i}`);
  // client-ip: the same client lands on the same backend whatever it asks for.
  const byIp = seeded("consistent-hash", 1, "s", { hashKey: { kind: "client-ip" } });
  for (const clientIp of ips) {
    const first = byIp.pick(all, ctx({ clientIp, path: "/a" }));
    assert.equal(byIp.pick(all, ctx({ clientIp, path: "/b?x=1", key: "other" })), first);
  }
  assert.ok(new Set(ips.map((clientIp) => byIp.pick(all, ctx({ clientIp })))).size > 1);
  // path: the query is not part of the key.
  const byPath = seeded("consistent-hash", 1, "s", { hashKey: { kind: "path" } });
  for (const path of keys(200).map((k) => `/${k}`)) {
    const first = byPath.pick(all, ctx({ path, clientIp: "192.0.2.1" }));
    assert.equal(byPath.pick(all, ctx({ path: `${path}?q=1`, clientIp: "192.0.2.2" })), first);
  }
  // cookie: found in any Cookie field (HTTP/2 clients may split them), quotes removed.
  const byCookie = seeded("consistent-hash", 1, "s", {
    hashKey: { kind: "cookie", name: "session" },
  });
  for (const id of keys(200)) {
    const first = byCookie.pick(all, ctx({ cookie: `session=${id}` }));
    assert.equal(byCookie.pick(all, ctx({ cookie: `theme=dark; session="${id}"` })), first);
    const split = ctx({ cookie: "theme=dark", headers: [["cookie", `session=${id}`]] });
    assert.equal(byCookie.pick(all, split), first);
  }
  // The same keys through a header give the same placement: the table does not depend on the source.
  const ks = keys(200);
  assert.deepEqual(
    ks.map((id) => byCookie.pick(all, ctx({ cookie: `session=${id}` }))),
    mapKeys(all, ks),
  );
});

Deno.test("consistent-hash: a request without the configured key is placed by weighted random", () => {
  const all = backends(2, [3, 1]);
  const s = seeded("consistent-hash", 23, "s", { hashKey: { kind: "cookie", name: "session" } });
  const picks = Array.from({ length: 20_000 }, () => s.pick(all, ctx({ cookie: "theme=dark" })));
  const [heavy] = shares(all, picks);
  assert.ok(Math.abs(heavy - 0.75) < 0.02, `${heavy}`);
});

Deno.test("maglevTable: fills every slot, and even a very light backend owns one", () => {
  const ids = Array.from({ length: 10 }, (_, i) => `b${i}`);
  const table = maglevTable(ids, [...new Array(9).fill(1000), 0.1]);
  assert.ok(table.every((i) => i >= 0 && i < 10));
  assert.ok(table.includes(9));
  assert.deepEqual([...new Set(maglevTable(["a", "b", "c"], [1, 1, 1], 7))].sort(), [0, 1, 2]);
});

Deno.test("hash32: deterministic, seed-dependent, and spread evenly", () => {
  assert.equal(hash32("abc"), hash32("abc"));
  assert.notEqual(hash32("abc"), hash32("abc", 1));
  assert.notEqual(hash32("key-1"), hash32("key-2"));
  const buckets = new Array(16).fill(0);
  for (let i = 0; i < 16_000; i++) buckets[hash32(`key-${i}`) % 16]++;
  for (const count of buckets) assert.ok(Math.abs(count - 1000) < 120, `${buckets}`);
});

// --- sticky-cookie ----------------------------------------------------------------

const COOKIE = /^lb_sticky=([A-Za-z0-9_-]{22}); Path=\/; HttpOnly; SameSite=Lax$/;

/** The `Cookie` header a browser would send back after `setCookie`. */
function cookieFrom(setCookie: [string, string][] | undefined): string {
  assert.ok(setCookie && setCookie.length === 1 && setCookie[0][0] === "set-cookie");
  const m = COOKIE.exec(setCookie[0][1]);
  assert.ok(m, setCookie[0][1]);
  return `theme=dark; lb_sticky=${m[1]}; lang=en`;
}

Deno.test("sticky-cookie: the first response sets a cookie, and requests carrying it stick", () => {
  const s = seeded("sticky-cookie");
  const all = backends(3);
  const first = s.pick(all, NOW)!;
  const cookie = cookieFrom(s.responseHeaders!(first, NOW));
  for (let i = 0; i < 10; i++) {
    const again = ctx({ cookie });
    assert.equal(s.pick(all, again), first);
    assert.equal(s.responseHeaders!(first, again), undefined, "already set: no Set-Cookie");
  }
});

Deno.test("sticky-cookie: when its backend leaves, the client goes elsewhere and gets a new cookie", () => {
  const s = seeded("sticky-cookie");
  const all = backends(3);
  const first = s.pick(all, NOW)!;
  const cookie = cookieFrom(s.responseHeaders!(first, NOW));
  const rest = all.filter((b) => b !== first);
  const returning = ctx({ cookie });
  const second = s.pick(rest, returning)!;
  assert.ok(rest.includes(second));
  const rewritten = cookieFrom(s.responseHeaders!(second, returning));
  assert.notEqual(rewritten, cookie);
  assert.equal(s.pick(all, ctx({ cookie: rewritten })), second, "stays after the first returns");
});

Deno.test("sticky-cookie: a retry leaves the cookie's backend when it was already tried", () => {
  const s = seeded("sticky-cookie");
  const all = backends(3);
  const cookie = cookieFrom(s.responseHeaders!(all[1], NOW));
  const other = s.pick(all, ctx({ cookie, exclude: new Set([all[1]]) }));
  assert.ok(other && other !== all[1]);
});

Deno.test("sticky-cookie: forged and garbled cookies are ignored", () => {
  const s = seeded("sticky-cookie");
  const all = backends(3);
  const honest = s.pick(all, NOW)!;
  for (
    const cookie of [
      "lb_sticky=AAAAAAAAAAAAAAAAAAAAAA",
      `lb_sticky=${stickyValue("guessed-secret", honest.id)}`,
      "lb_sticky=",
      "lb_sticky",
      "lb_sticky=%%%; =; ;;",
      `lb_sticky=${btoa(honest.id)}`,
    ]
  ) {
    const picks = new Set(Array.from({ length: 3 }, () => s.pick(all, ctx({ cookie }))));
    assert.equal(picks.size, 3, `${cookie}: placed by round-robin, not pinned`);
    assert.ok(s.responseHeaders!(honest, ctx({ cookie })), `${cookie}: replaced`);
  }
});

Deno.test("sticky-cookie: replicas with the same secret set identical cookies", () => {
  const all = backends(3);
  const a = seeded("sticky-cookie", 1, "shared");
  const b = seeded("sticky-cookie", 2, "shared");
  const c = seeded("sticky-cookie", 1, "other");
  for (const backend of all) {
    assert.deepEqual(a.responseHeaders!(backend, NOW), b.responseHeaders!(backend, NOW));
    assert.notDeepEqual(a.responseHeaders!(backend, NOW), c.responseHeaders!(backend, NOW));
  }
  // A cookie set by one replica is honoured by the other.
  const cookie = cookieFrom(a.responseHeaders!(all[2], NOW));
  assert.equal(b.pick(all, ctx({ cookie })), all[2]);
});

Deno.test("sticky-cookie: the cookie is found in any Cookie field, quoted or not", () => {
  const s = seeded("sticky-cookie");
  const all = backends(3);
  const value = cookieFrom(s.responseHeaders!(all[2], NOW)).split("lb_sticky=")[1].split(";")[0];
  // HTTP/2 clients may send each cookie in a field of its own (RFC 9113 §8.2.3).
  const split = ctx({ cookie: "theme=dark", headers: [["cookie", `lb_sticky=${value}`]] });
  for (let i = 0; i < 5; i++) assert.equal(s.pick(all, split), all[2]);
  assert.equal(s.responseHeaders!(all[2], split), undefined);
  const quoted = ctx({ cookie: `lb_sticky="${value}"` });
  for (let i = 0; i < 5; i++) assert.equal(s.pick(all, quoted), all[2]);
  assert.equal(s.responseHeaders!(all[2], quoted), undefined);
});

Deno.test("sticky-cookie: the cookie's name comes from the balancing settings", () => {
  const s = createStrategy("sticky-cookie", {
    random: mulberry32(1),
    balancing: balancing({ stickyCookieName: "route_id" }),
  });
  const all = backends(3);
  const set = s.responseHeaders!(all[1], NOW);
  assert.ok(set && /^route_id=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/.test(set[0][1]));
  const cookie = set[0][1].split(";")[0];
  for (let i = 0; i < 5; i++) assert.equal(s.pick(all, ctx({ cookie })), all[1]);
  // Under another name the same value pins nothing.
  const other = ctx({ cookie: cookie.replace("route_id", "lb_sticky") });
  assert.equal(new Set(Array.from({ length: 3 }, () => s.pick(all, other))).size, 3);
});

Deno.test("sticky-cookie: cookie values are 22 base64url characters, distinct per backend", () => {
  const values = backends(50).map((b) => stickyValue("s", b.id));
  assert.equal(new Set(values).size, 50);
  for (const v of values) assert.match(v, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(stickyValue("s", backend(1).id), values[0]);
});

Deno.test("cookieValue: finds the named cookie in a Cookie header", () => {
  assert.equal(cookieValue("a=1; lb_sticky=xyz; b=2", "lb_sticky"), "xyz");
  assert.equal(cookieValue('lb_sticky="xyz"', "lb_sticky"), "xyz");
  assert.equal(cookieValue("lb_sticky=first; lb_sticky=second", "lb_sticky"), "first");
  assert.equal(cookieValue("xlb_sticky=1; lb_stickyx=2", "lb_sticky"), undefined);
  assert.equal(cookieValue("a=b=c", "a"), "b=c");
  assert.equal(cookieValue(null, "a"), undefined);
  assert.equal(cookieValue("", "a"), undefined);
});
