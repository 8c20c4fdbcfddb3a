/** The simulator on small configurations: splits, round-robin, no route, ip rules, rate limits, auth. */

import assert from "node:assert/strict";
import { createSimulator, rateKey } from "../../lib/replay/simulator.ts";
import type { Fate } from "../../lib/replay/types.ts";
import { configOf, record } from "./_replay.ts";

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";
const C = "http://127.0.0.1:9003";

/** Counts of `key(fate)` over fates. */
function count(fates: readonly Fate[], key: (f: Fate) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fates) out[key(f)] = (out[key(f)] ?? 0) + 1;
  return out;
}

const where = (f: Fate) =>
  f.kind === "served"
    ? `${f.route} ${f.pool} ${f.backend}`
    : f.kind === "rejected"
    ? `${f.status} ${f.reason} ${f.route} ${f.pool}`
    : `${f.policy} ${f.route} ${f.pool}`;

Deno.test("round-robin shares are exact: weights 1 and 2 give 1/3 and 2/3 in smooth order", () => {
  const simulate = createSimulator(configOf(`backends: ["${A}", "${B}=2"]\n`), 1);
  const fates = Array.from({ length: 9 }, () => simulate(record()));
  assert.deepEqual(
    fates.map((f) => f.kind === "served" ? f.backend : f.kind),
    [B, A, B, B, A, B, B, A, B],
  );
  assert.deepEqual(count(fates, where), {
    [`default default ${A}`]: 3,
    [`default default ${B}`]: 6,
  });
});

Deno.test("a split 3:1 sends exactly 3 of every 4 requests to its first pool, turning as live", () => {
  const simulate = createSimulator(
    configOf(
      `pools:\n  api: { backends: ["${A}", "${B}"] }\n  canary: { backends: ["${C}"] }\n` +
        `routes:\n  - { name: api, match: { path-prefix: /api }, split: { api: 3, canary: 1 } }\n`,
    ),
    1,
  );
  const fates = Array.from({ length: 40 }, () => simulate(record({ path: "/api/x" })));
  assert.deepEqual(count(fates, (f) => f.pool), { api: 30, canary: 10 });
  assert.deepEqual(count(fates, where), {
    [`api api ${A}`]: 15,
    [`api api ${B}`]: 15,
    [`api canary ${C}`]: 10,
  });
});

Deno.test("a request no route matches gets the no-route status; no Host is a 400 before routing", () => {
  const config = configOf(
    `backends: ["${A}"]\nno-route-status: 421\n` +
      `routes:\n  - { name: api, match: { path-prefix: /api, host: api.test }, pool: default }\n`,
  );
  const simulate = createSimulator(config, 1);
  assert.deepEqual(simulate(record({ path: "/legacy", host: "api.test" })), {
    kind: "rejected",
    status: 421,
    reason: "no-route",
    route: "none",
    pool: "none",
  });
  assert.equal(
    where(simulate(record({ path: "/api/1", host: "API.test:80" }))),
    `api default ${A}`,
  );
  assert.equal(where(simulate(record({ path: "/api/1", host: null }))), "400 no-host none none");
  assert.equal(
    where(simulate(record({ path: "/api/1", host: "other.test" }))),
    "421 no-route none none",
  );
});

Deno.test("ip rules refuse with 403 by the logged client, after the split has turned", () => {
  const simulate = createSimulator(
    configOf(
      `pools:\n  a: { backends: ["${A}"] }\n  b: { backends: ["${B}"] }\n` +
        `routes:\n  - name: admin\n    match: {}\n    split: { a: 1, b: 1 }\n` +
        `    policies: { ip: { allow: 10.0.0.0/8, deny: 10.0.0.9 } }\n`,
    ),
    1,
  );
  const fates = ["10.1.2.3", "192.0.2.1", "10.0.0.9", "10.4.4.4"].map((client) =>
    simulate(record({ client }))
  );
  assert.deepEqual(fates.map(where), [
    `admin a ${A}`,
    "403 ip admin b",
    "403 ip admin a",
    `admin b ${B}`,
  ]);
});

Deno.test("a rate limit refuses with 429 on the log's own times, per client, refilling as time passes", () => {
  const simulate = createSimulator(
    configOf(
      `backends: ["${A}"]\nroutes:\n  - name: search\n    match: {}\n    pool: default\n` +
        `    policies: { rate-limit: { limit: 1, period: 10s, burst: 2 } }\n`,
    ),
    1,
  );
  const t0 = Date.parse("2026-12-02T10:00:00.000Z");
  const at = (s: number, client = "192.0.2.1") =>
    where(simulate(record({ at: t0 + s * 1000, client })));
  assert.equal(at(0), `search default ${A}`);
  assert.equal(at(1), `search default ${A}`);
  assert.equal(at(2), "429 rate-limit search default");
  assert.equal(at(2.5, "192.0.2.2"), `search default ${A}`, "another client has its own bucket");
  assert.equal(at(9), "429 rate-limit search default");
  // 12 s after the start: 1.2 tokens earned, 2 spent, so one whole token back by now.
  assert.equal(at(12), `search default ${A}`);
  assert.equal(at(12.1), "429 rate-limit search default");
});

Deno.test("routes whose rate limits share a name share buckets", () => {
  const limit = "{ rate-limit: { name: shared, limit: 1, period: 1h, burst: 1 } }";
  const simulate = createSimulator(
    configOf(
      `backends: ["${A}"]\nroutes:\n` +
        `  - { name: one, match: { path: /1 }, pool: default, policies: ${limit} }\n` +
        `  - { name: two, match: { path: /2 }, pool: default, policies: ${limit} }\n`,
    ),
    1,
  );
  assert.equal(where(simulate(record({ path: "/1" }))), `one default ${A}`);
  assert.equal(where(simulate(record({ path: "/2" }))), "429 rate-limit two default");
});

Deno.test("rate keys: ip alone is the address (an IPv6 /64), other parts joined; absent fields empty", () => {
  assert.equal(rateKey([{ kind: "ip" }], "r", "192.0.2.1"), "192.0.2.1");
  assert.equal(rateKey([{ kind: "ip" }], "r", "2001:db8::1"), "20010db800000000::/64");
  assert.equal(
    rateKey(
      [{ kind: "ip" }, { kind: "route" }, { kind: "header", name: "x-key" }],
      "r",
      "192.0.2.1",
    ),
    "192.0.2.1\nr\n",
  );
});

Deno.test("auth: no logged user needs credentials; a logged user passes (basic auth: if still a user)", () => {
  const hash = "$2b$04$C6UzMDM.H6dfI/f/IKxGhuo0fhMfr.xIgg1YyLSbD.kI5nZvPfqzG";
  const simulate = createSimulator(
    configOf(
      `backends: ["${A}"]\nroutes:\n` +
        `  - { name: basic, match: { path: /b }, pool: default, policies: { basic-auth: { users: { ann: "${hash}" } } } }\n` +
        `  - { name: fwd, match: { path: /f }, pool: default, policies: { forward-auth: { url: "http://127.0.0.1:1/auth" } } }\n`,
    ),
    1,
  );
  assert.equal(where(simulate(record({ path: "/b" }))), "basic-auth basic default");
  assert.equal(where(simulate(record({ path: "/b", user: "ann" }))), `basic default ${A}`);
  assert.equal(
    where(simulate(record({ path: "/b", user: "bob" }))),
    "401 basic-auth basic default",
  );
  assert.equal(where(simulate(record({ path: "/f" }))), "forward-auth fwd default");
  assert.equal(where(simulate(record({ path: "/f", user: "bob" }))), `fwd default ${A}`);
});

Deno.test("random and p2c picks depend only on the seed", () => {
  for (const strategy of ["random", "p2c-ewma", "least-connections", "consistent-hash"]) {
    const config = configOf(`backends: ["${A}", "${B}", "${C}"]\nstrategy: ${strategy}\n`);
    const run = (seed: number) => {
      const simulate = createSimulator(config, seed);
      return Array.from(
        { length: 300 },
        (_, i) => where(simulate(record({ client: `192.0.2.${i % 50}`, path: `/${i}` }))),
      );
    };
    assert.deepEqual(run(7), run(7), strategy);
    const shares = new Set(run(7));
    assert.equal(shares.size, 3, `${strategy}: ${[...shares]}`);
  }
});
