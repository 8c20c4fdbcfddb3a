/**
 * The admin listener with several pools: the pool-addressed API paths for
 * every verb, unknown pools, the single-pool `/api/backends` paths with one
 * pool and with two, `/status` with pools and routes, and readiness when
 * only some pools have a healthy backend.
 */

import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { READ_ONLY_MESSAGE } from "../../lib/admin/api.ts";
import type { RouteConfig } from "../../lib/config/types.ts";
import { A, B, C, call, D, enc, setup, snapshot } from "./_admin.ts";

/** `web` of A and B, `api` of A and C: A is in both, so every path must say which. */
const TWO = { web: `${A},${B}`, api: `${A},${C}` };
const WEB = "/api/pools/web/backends";
const API = "/api/pools/api/backends";

const ROUTES: RouteConfig[] = [
  {
    name: "v1",
    match: { hosts: ["api.example.com"], pathPrefixes: ["/v1"] },
    target: { kind: "pool", pool: "api" },
    mirror: "web",
    stripPrefix: "/v1",
    replacePrefix: "/",
  },
  {
    name: "canary",
    match: { headers: { "x-canary": ["1"] } },
    target: { kind: "split", weights: [["web", 90], ["api", 10]] },
  },
  { name: "rest", match: {}, target: { kind: "pool", pool: "web" } },
];

const urls = (backends: { url: string }[]) => backends.map((b) => b.url);

Deno.test("GET /api/pools lists every pool with its backends, without a token", async () => {
  using t = setup({ token: null, pools: TWO });
  const res = await call(t.handler, "/api/pools", { auth: null });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(
    res.json.pools.map((p: { name: string; strategy: string; healthy: number }) => [
      p.name,
      p.strategy,
      p.healthy,
    ]),
    [["web", "round-robin", 2], ["api", "round-robin", 2]],
  );
  assert.deepEqual(urls(res.json.pools[0].backends), [A, B]);
  assert.deepEqual(urls(res.json.pools[1].backends), [A, C]);
  assert.equal((await call(t.handler, "/api/pools", { method: "HEAD" })).status, 200);

  const one = await call(t.handler, "/api/pools/api", { auth: null });
  assert.equal(one.status, 200);
  assert.deepEqual(one.json, res.json.pools[1]);

  const list = await call(t.handler, API, { auth: null });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json, { pool: "api", backends: res.json.pools[1].backends });

  for (const path of [`${API}/${enc(C)}`, `${API}/${C}`, `${API}/127.0.0.1:9003`]) {
    const b = await call(t.handler, path, { auth: null });
    assert.equal(b.status, 200, path);
    assert.deepEqual(b.json, res.json.pools[1].backends[1]);
  }
  assert.equal((await call(t.handler, `${API}/${enc(C)}`, { method: "HEAD" })).status, 200);
});

Deno.test("POST /api/pools/{pool}/backends adds to that pool only", async () => {
  using t = setup({ pools: TWO });
  const [web, api] = t.pools.map((p) => p.pool);
  const res = await call(t.handler, API, { method: "POST", body: { url: D, weight: 3 } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), `${API}/${enc(D)}`);
  assert.equal(res.json.url, D);
  assert.equal(res.json.weight, 3);
  assert.equal(res.json.state, "down");
  assert.match(res.json.reason, /waiting for a passing health check/);
  assert.deepEqual(api.backends.map((b) => b.id), [A, C, D]);
  assert.deepEqual(web.backends.map((b) => b.id), [A, B]);

  // Present in web, so 409 there; absent from api, so C may join web.
  const dup = await call(t.handler, WEB, { method: "POST", body: { url: "127.0.0.1:9002" } });
  assert.equal(dup.status, 409);
  assert.match(dup.json.error, /^backend http:\/\/127\.0\.0\.1:9002 is already in pool "web"/);
  const other = await call(t.handler, WEB, { method: "POST", body: { url: C } });
  assert.equal(other.status, 201);
  assert.deepEqual(web.backends.map((b) => b.id), [A, B, C]);
});

Deno.test("DELETE /api/pools/{pool}/backends/{origin} drains it in that pool only", async () => {
  using t = setup({ pools: TWO });
  const [web, api] = t.pools.map((p) => p.pool);
  const res = await call(t.handler, `${API}/${enc(A)}`, { method: "DELETE" });
  assert.equal(res.status, 202);
  assert.deepEqual(res.json, { url: A, draining: true });
  assert.equal(api.find(A)?.draining, true);
  assert.equal(web.find(A)?.draining, false);
  assert.deepEqual(api.healthy.map((b) => b.id), [C]);
  assert.deepEqual(web.healthy.map((b) => b.id), [A, B]);
  const status = (await call(t.handler, "/status")).json;
  const stateOf = (pool: string) =>
    status.backends.find((b: { pool: string; url: string }) => b.pool === pool && b.url === A)
      .state;
  assert.equal(stateOf("api"), "draining");
  assert.equal(stateOf("web"), "up");

  // Again: the same drain; a change to the draining one is refused, naming the pool.
  assert.equal((await call(t.handler, `${API}/${enc(A)}`, { method: "DELETE" })).status, 202);
  const weight = await call(t.handler, `${API}/${enc(A)}/weight`, {
    method: "PUT",
    body: { weight: 2 },
  });
  assert.equal(weight.status, 409);
  assert.match(weight.json.error, /^backend http:\/\/127\.0\.0\.1:9001 in pool "api" is draining/);
  await new Promise((r) => setTimeout(r, 250)); // The pool sweeps drained members every 100 ms.
  assert.deepEqual(api.backends.map((b) => b.id), [C]);
  assert.deepEqual(web.backends.map((b) => b.id), [A, B]);
});

Deno.test("PUT …/weight and POST/DELETE …/maintenance change the backend of that pool only", async () => {
  using t = setup({ pools: TWO });
  const [web, api] = t.pools.map((p) => p.pool);
  const w = await call(t.handler, `${WEB}/${A}/weight`, { method: "PUT", body: { weight: 8 } });
  assert.equal(w.status, 200);
  assert.equal(w.json.weight, 8);
  assert.equal(web.find(A)?.weight, 8);
  assert.equal(api.find(A)?.weight, 1);

  const out = await call(t.handler, `${API}/${enc(A)}/maintenance`, { method: "POST" });
  assert.equal(out.status, 200);
  assert.equal(out.json.state, "maintenance");
  assert.deepEqual(api.healthy.map((b) => b.id), [C]);
  assert.deepEqual(web.healthy.map((b) => b.id), [A, B]);
  const back = await call(t.handler, `${API}/${enc(A)}/maintenance`, { method: "DELETE" });
  assert.equal(back.status, 200);
  assert.equal(back.json.state, "up");
  assert.deepEqual(api.healthy.map((b) => b.id), [A, C]);
});

/** Every route of pool `p`, each verb it answers, with a valid body. */
function everyVerb(p: string) {
  const base = `/api/pools/${p}/backends`;
  const one = `${base}/${enc(A)}`;
  return [
    { method: "GET", path: `/api/pools/${p}` },
    { method: "GET", path: base },
    { method: "POST", path: base, body: { url: D } },
    { method: "GET", path: one },
    { method: "DELETE", path: one },
    { method: "PUT", path: `${one}/weight`, body: { weight: 4 } },
    { method: "POST", path: `${one}/maintenance` },
    { method: "DELETE", path: `${one}/maintenance` },
  ];
}

Deno.test("an unknown pool is 404 naming it and the known ones, before method and token checks", async () => {
  using t = setup({ pools: TWO });
  const before = await snapshot(t.handler);
  const cases = [
    ...everyVerb("nope"),
    { method: "PATCH", path: "/api/pools/nope/backends" }, // would be 405
    { method: "DELETE", path: `/api/pools/nope/backends/${enc(A)}`, auth: null }, // would be 401
  ];
  for (const c of cases) {
    const res = await call(t.handler, c.path, c);
    assert.equal(res.status, 404, `${c.method} ${c.path}`);
    assert.deepEqual(res.json, { error: 'no pool "nope" (known pools: web, api)' });
  }
  const bad = await call(t.handler, "/api/pools/%E0%A4%A/backends");
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /^pool "%E0%A4%A" in the path is not valid percent-encoding$/);
  assert.equal(await snapshot(t.handler), before);
});

Deno.test("unknown backends and paths under a pool are 404", async () => {
  using t = setup({ pools: TWO });
  const res = await call(t.handler, `${WEB}/${enc(C)}/weight`, {
    method: "PUT",
    body: { weight: 2 },
  });
  assert.equal(res.status, 404);
  assert.equal(
    res.json.error,
    `no backend "${C}" in pool "web" (GET /api/pools/web/backends lists them)`,
  );
  for (const path of ["/api/pools/", "/api/pools/web/", `${WEB}/`, "/api/pools/web/x"]) {
    const r = await call(t.handler, path);
    assert.equal(r.status, 404, path);
    assert.match(r.json.error, /^no route .* \(try GET \/api\/pools\)$/);
  }
});

Deno.test("pool-addressed mutations need the token and a valid body, like /api/backends", async () => {
  using t = setup({ pools: TWO });
  const before = await snapshot(t.handler);
  for (const m of everyVerb("api").filter((m) => m.method !== "GET")) {
    const res = await call(t.handler, m.path, { ...m, auth: null });
    assert.equal(res.status, 401, `${m.method} ${m.path}`);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="lb-admin"/);
  }
  const body = await call(t.handler, API, { method: "POST", body: { url: "ftp://x", weight: 0 } });
  assert.equal(body.status, 400);
  assert.match(body.json.error, /"url" "ftp:\/\/x" .*; "weight" .*\(got 0\)/);
  assert.equal(await snapshot(t.handler), before);

  using ro = setup({ pools: TWO, token: null });
  for (const m of everyVerb("api").filter((m) => m.method !== "GET")) {
    const res = await call(ro.handler, m.path, m);
    assert.equal(res.status, 403, `${m.method} ${m.path}`);
    assert.deepEqual(res.json, { error: READ_ONLY_MESSAGE });
  }
});

Deno.test("wrong methods on pool paths are 405 with Allow", async () => {
  using t = setup({ pools: TWO });
  const cases: [string, string, string][] = [
    ["POST", "/api/pools", "GET, HEAD"],
    ["DELETE", "/api/pools/web", "GET, HEAD"],
    ["PUT", WEB, "GET, HEAD, POST"],
    ["PUT", `${WEB}/${enc(A)}`, "GET, HEAD, DELETE"],
    ["GET", `${WEB}/${enc(A)}/weight`, "PUT"],
    ["GET", `${WEB}/${enc(A)}/maintenance`, "POST, DELETE"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await call(t.handler, path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow);
    assert.match(res.json.error, new RegExp(`^${method} is not allowed on `));
  }
});

Deno.test("/api/backends addresses the only pool, whatever its name", async () => {
  using t = setup({ pools: { web: `${A},${B}` } });
  const list = await call(t.handler, "/api/backends");
  assert.equal(list.status, 200);
  assert.equal(list.json.pool, "web");
  assert.deepEqual(urls(list.json.backends), [A, B]);
  const added = await call(t.handler, "/api/backends", { method: "POST", body: { url: C } });
  assert.equal(added.status, 201);
  assert.equal(added.headers.get("location"), `/api/backends/${enc(C)}`);
  const w = await call(t.handler, `/api/backends/${enc(B)}/weight`, {
    method: "PUT",
    body: { weight: 6 },
  });
  assert.equal(w.status, 200);
  assert.equal((await call(t.handler, `${WEB}/${enc(B)}`)).json.weight, 6);
  const gone = await call(t.handler, `/api/backends/${enc(D)}`, { method: "DELETE" });
  assert.equal(gone.status, 404);
  assert.equal(gone.json.error, `no backend "${D}" in pool "web" (GET /api/backends lists them)`);
});

Deno.test("/api/backends with several pools is 404 pointing to /api/pools/{pool}/backends", async () => {
  using t = setup({ pools: TWO });
  const before = await snapshot(t.handler);
  const one = `/api/backends/${enc(A)}`;
  const cases = [
    { method: "GET", path: "/api/backends" },
    { method: "POST", path: "/api/backends", body: { url: D } },
    { method: "GET", path: one },
    { method: "DELETE", path: one },
    { method: "PUT", path: `${one}/weight`, body: { weight: 2 } },
    { method: "POST", path: `${one}/maintenance` },
    { method: "DELETE", path: `${one}/maintenance` },
    { method: "PATCH", path: `${one}/maintenance` },
  ];
  for (const c of cases) {
    const res = await call(t.handler, c.path, c);
    assert.equal(res.status, 404, `${c.method} ${c.path}`);
    const instead = c.path.replace("/api/backends", "/api/pools/{pool}/backends");
    assert.equal(
      res.json.error,
      `${c.path} addresses the only pool, but there are 2 (web, api): ` +
        `use ${instead} (GET /api/pools lists them)`,
    );
  }
  assert.equal(await snapshot(t.handler), before);
});

Deno.test("/status shows each pool, the routes, and every backend with its pool", async () => {
  using t = setup({ pools: TWO, routes: ROUTES });
  t.pools[1].pool.setMaintenance(C, true);
  const res = await call(t.handler, "/status");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const s = res.json;
  assert.equal(s.ready, true);
  assert.equal(s.shuttingDown, false);
  assert.deepEqual(
    s.pools.map((p: { name: string; strategy: string; healthy: number }) => [
      p.name,
      p.strategy,
      p.healthy,
    ]),
    [["web", "round-robin", 2], ["api", "round-robin", 1]],
  );
  assert.deepEqual(urls(s.pools[1].backends), [A, C]);
  assert.equal(s.pools[1].backends[1].state, "maintenance");
  assert.deepEqual(
    s.backends.map((b: { pool: string; url: string; state: string }) => [b.pool, b.url, b.state]),
    [["web", A, "up"], ["web", B, "up"], ["api", A, "up"], ["api", C, "maintenance"]],
  );
  // The flat list is the pools' entries plus `pool`.
  const { pool, ...entry } = s.backends[3];
  assert.equal(pool, "api");
  assert.deepEqual(entry, s.pools[1].backends[1]);
  for (const q of ["p50", "p90", "p99"]) assert.equal(entry.latencyMs[q], null);
  assert.deepEqual(s.routes, [
    {
      name: "v1",
      match: { hosts: ["api.example.com"], pathPrefixes: ["/v1"] },
      target: { kind: "pool", pool: "api" },
      mirror: "web",
      stripPrefix: "/v1",
      replacePrefix: "/",
    },
    {
      name: "canary",
      match: { headers: { "x-canary": ["1"] } },
      target: {
        kind: "split",
        weights: [{ pool: "web", weight: 90 }, { pool: "api", weight: 10 }],
      },
    },
    { name: "rest", match: {}, target: { kind: "pool", pool: "web" } },
  ]);
});

Deno.test("ready while any pool has a healthy backend, even with another empty", async () => {
  let shuttingDown = false;
  using t = setup({ pools: { empty: "", web: A }, shuttingDown: () => shuttingDown });
  const ready = async () => {
    const res = await t.handler(new Request("http://admin.test/readyz"));
    const status = (await call(t.handler, "/status")).json;
    return [res.status, await res.text(), status.ready];
  };
  assert.deepEqual(await ready(), [200, "ready\n", true]);
  const s = (await call(t.handler, "/status")).json;
  assert.deepEqual(s.pools.map((p: { healthy: number }) => p.healthy), [0, 1]);

  // Its last backend out: nothing healthy anywhere.
  t.pools[1].pool.setMaintenance(A, true);
  assert.deepEqual(await ready(), [503, "no healthy backend in any pool\n", false]);
  t.pools[1].pool.setMaintenance(A, false);
  assert.deepEqual(await ready(), [200, "ready\n", true]);
  shuttingDown = true;
  assert.deepEqual(await ready(), [503, "shutting down\n", false]);
});

Deno.test("not ready with no pools at all", async () => {
  using t = setup({ pools: {} });
  const res = await t.handler(new Request("http://admin.test/readyz"));
  assert.deepEqual([res.status, await res.text()], [503, "no pools configured\n"]);
  assert.equal((await call(t.handler, "/status")).json.ready, false);
  const legacy = await call(t.handler, "/api/backends");
  assert.equal(legacy.status, 404);
  assert.match(legacy.json.error, /there are 0 \(none\)/);
});

Deno.test("unknown admin paths list /api/pools", async () => {
  using t = setup({ pools: TWO });
  const res = await t.handler(new Request("http://admin.test/nope"));
  assert.equal(res.status, 404);
  assert.match(await res.text(), /\/status, \/api\/pools/);
});

Deno.test("each change is logged once, naming the pool", async () => {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (r) => records.push(r) },
    loggers: [
      { category: ["lb", "admin"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  try {
    using t = setup({ pools: TWO });
    await call(t.handler, API, { method: "POST", body: { url: D } });
    await call(t.handler, API, { method: "POST", body: { url: D } }); // 409
    await call(t.handler, `${WEB}/${enc(A)}/weight`, { method: "PUT", body: { weight: 2 } });
    await call(t.handler, `${API}/${enc(A)}/maintenance`, { method: "POST" });
    await call(t.handler, `${API}/${enc(A)}/maintenance`, { method: "DELETE" });
    await call(t.handler, `${WEB}/${enc(B)}`, { method: "DELETE" });
    await call(t.handler, `/api/backends/${enc(B)}`, { method: "DELETE" }); // 404: two pools
    assert.deepEqual(records.map((r) => r.message.map(String).join("")), [
      `pool api: added ${D} with weight 1; it takes traffic after a health check`,
      `pool web: weight of ${A} changed from 1 to 2`,
      `pool api: ${A} taken out for maintenance`,
      `pool api: ${A} back from maintenance`,
      `pool web: draining ${B}: no new requests; it leaves once 0 in flight finish`,
    ]);
    assert.deepEqual(records.map((r) => r.properties.pool), ["api", "web", "api", "api", "web"]);
  } finally {
    resetSync();
  }
});
