/**
 * Routes through a whole lb, in front of two pools of real loopback
 * backends: host routes (exact, `*.domain`, none → 404 or
 * `no-route-status`), path prefixes by whole segments with `strip-prefix`
 * and `replace-prefix` as the backend sees them, method/header/query
 * routes, first-match precedence, a 90/10 split that is exact in every
 * window of 10, and `lb_requests_total` by route and pool. Most run
 * in-process (`mod.ts`'s `startLoadBalancer` and `handle`); the last runs
 * the real `lb` with a config file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { rawRequest } from "../_http.ts";
import { startLb, waitFor } from "../_lb.ts";
import { backend, inProcess, metric, series, tally } from "./_routes.ts";

const decoder = new TextDecoder();

Deno.test("host routes: exact names, *.domain takes subdomains only, any other host gets 404", async () => {
  await using api = backend("api");
  await using web = backend("web");
  await using t = inProcess({
    pools: { api: { backends: [api.origin] }, web: { backends: [web.origin] } },
    routes: [
      { name: "api-host", match: { host: "api.example.com" }, pool: "api" },
      { name: "wildcard", match: { host: "*.example.com" }, pool: "web" },
    ],
  });
  const cases: [string, string | number][] = [
    ["api.example.com", "api"],
    // Host names ignore case; the port and a trailing dot don't pick the site.
    ["API.Example.COM:8443", "api"],
    ["api.example.com.", "api"],
    ["www.example.com", "web"],
    ["a.b.example.com", "web"],
    ["example.com", 404],
    ["evil-example.com", 404],
    ["example.com.evil.test", 404],
    ["other.test", 404],
  ];
  for (const [host, expected] of cases) {
    // In-process, the URL's authority is the request's Host.
    const res = await t.send(`http://${host}/`);
    if (typeof expected === "number") {
      assert.equal(res.status, expected, `${host}: ${res.body}`);
    } else {
      assert.equal(res.status, 200, `${host}: ${res.body}`);
      assert.equal(res.echo().name, expected, host);
    }
  }
  // The 404s went nowhere.
  assert.equal(api.seen.length, 3);
  assert.equal(web.seen.length, 2);
  assert.deepEqual(
    t.records.map((r) => r.route),
    ["api-host", "api-host", "api-host", "wildcard", "wildcard", "none", "none", "none", "none"],
  );
});

Deno.test("path-prefix matches whole segments; strip-prefix and replace-prefix rewrite what the backend sees", async () => {
  await using api = backend("api");
  await using web = backend("web");
  await using t = inProcess({
    pools: { api: { backends: [api.origin] }, web: { backends: [web.origin] } },
    routes: [
      { name: "api", match: { "path-prefix": "/api" }, pool: "api", "strip-prefix": "/api" },
      {
        name: "legacy",
        match: { "path-prefix": "/old" },
        pool: "web",
        "strip-prefix": "/old",
        "replace-prefix": "/v2",
      },
      { name: "static", match: { "path-prefix": "/static" }, pool: "web" },
      { name: "health", match: { path: "/healthz" }, pool: "api" },
    ],
  });
  const cases: [string, string, string][] = [
    // [client path, backend, path the backend sees]
    ["/api", "api", "/"],
    ["/api/", "api", "/"],
    ["/api/users/7", "api", "/users/7"],
    ["/api?q=1", "api", "/?q=1"],
    ["/api/x?q=a%20b", "api", "/x?q=a%20b"],
    ["/old", "web", "/v2"],
    ["/old/items/7?full=1", "web", "/v2/items/7?full=1"],
    ["/static/app.js", "web", "/static/app.js"],
    ["/healthz", "api", "/healthz"],
    ["/healthz?verbose=1", "api", "/healthz?verbose=1"],
  ];
  for (const [path, name, seen] of cases) {
    const res = await t.send(`http://example.com${path}`);
    assert.equal(res.status, 200, `${path}: ${res.body}`);
    assert.deepEqual([res.echo().name, res.echo().path], [name, seen], path);
  }
  // Not on a segment boundary, or not a prefix at all: no route.
  for (const path of ["/apix", "/api-v2/x", "/older", "/staticfile", "/healthz/x", "/", "/x/api"]) {
    const res = await t.send(`http://example.com${path}`);
    assert.equal(res.status, 404, `${path}: ${res.body}`);
  }
  assert.equal(api.seen.length + web.seen.length, cases.length);
});

Deno.test("method, header and query routes; the first route that matches wins", async () => {
  await using api = backend("api");
  await using web = backend("web");
  await using t = inProcess({
    pools: { api: { backends: [api.origin] }, web: { backends: [web.origin] } },
    routes: [
      // Narrow before wide: the exact path wins over the prefix after it.
      { name: "special", match: { path: "/shop/special" }, pool: "api" },
      { name: "shop", match: { "path-prefix": "/shop" }, pool: "web" },
      // Wide before narrow: this prefix shadows the exact path after it.
      { name: "docs", match: { "path-prefix": "/docs" }, pool: "web" },
      { name: "docs-special", match: { path: "/docs/special" }, pool: "api" },
      { name: "writes", match: { method: ["POST", "PUT"] }, pool: "api" },
      { name: "canary", match: { headers: { "X-Canary": ["1", "yes"] } }, pool: "api" },
      { name: "beta", match: { query: { beta: "on" } }, pool: "api" },
      // Every test given must pass.
      {
        name: "team-a",
        match: { "path-prefix": "/team", headers: { "x-team": "a" }, query: { v: ["1", "2"] } },
        pool: "api",
      },
      { name: "rest", match: {}, pool: "web" },
    ],
  });
  const cases: [string, Parameters<typeof t.send>[1], string][] = [
    ["/shop/special", {}, "special"],
    ["/shop/special?x=1", {}, "special"],
    ["/shop/specials", {}, "shop"],
    ["/shop", {}, "shop"],
    ["/docs/special", {}, "docs"],
    ["/", { method: "POST", body: "x" }, "writes"],
    ["/", { method: "PUT", body: "x" }, "writes"],
    ["/", { method: "DELETE" }, "rest"],
    ["/", { method: "PATCH", body: "x" }, "rest"],
    // A POST to /shop matches `shop` first.
    ["/shop", { method: "POST", body: "x" }, "shop"],
    ["/", { headers: { "x-canary": "yes" } }, "canary"],
    ["/", { headers: { "x-canary": "1" } }, "canary"],
    ["/", { headers: { "x-canary": "no" } }, "rest"],
    ["/", { headers: { "x-canaryx": "1" } }, "rest"],
    ["/?beta=on", {}, "beta"],
    ["/?x=1&beta=off&beta=on", {}, "beta"],
    ["/?beta=off", {}, "rest"],
    ["/?beta=ON", {}, "rest"],
    ["/team/x?v=2", { headers: { "x-team": "a" } }, "team-a"],
    ["/team/x?v=3", { headers: { "x-team": "a" } }, "rest"],
    ["/team/x?v=1", { headers: { "x-team": "b" } }, "rest"],
    ["/teams?v=1", { headers: { "x-team": "a" } }, "rest"],
  ];
  const pools: Record<string, string> = {
    special: "api",
    shop: "web",
    docs: "web",
    writes: "api",
    canary: "api",
    beta: "api",
    "team-a": "api",
    rest: "web",
  };
  for (const [i, [path, init, route]] of cases.entries()) {
    const what = `${init?.method ?? "GET"} ${path} ${JSON.stringify(init?.headers ?? {})}`;
    const res = await t.send(`http://example.com${path}`, init);
    assert.equal(res.status, 200, `${what}: ${res.body}`);
    assert.equal(res.echo().name, pools[route], what);
    assert.equal(res.echo().method, init?.method ?? "GET", what);
    await waitFor(() => t.records.length > i, 1000, `the access record of ${what}`);
    assert.equal(t.records[i].route, route, what);
    assert.equal(t.records[i].pool, pools[route], what);
  }
  // docs-special is shadowed: nothing ever reaches it.
  assert.ok(!t.records.some((r) => r.route === "docs-special"));
});

Deno.test("no-route-status changes the answer to a request no route matches", async () => {
  await using api = backend("api");
  await using t = inProcess({
    "no-route-status": 421,
    pools: { api: { backends: [api.origin] } },
    routes: [{ name: "api", match: { host: "api.example.com" }, pool: "api" }],
  });
  assert.equal((await t.send("http://api.example.com/")).status, 200);
  for (const url of ["http://www.example.com/", "http://example.org/x", "http://10.0.0.1/"]) {
    const res = await t.send(url);
    assert.equal(res.status, 421, url);
  }
  assert.equal(api.seen.length, 1);
});

Deno.test("a 90/10 split sends exactly 90 and 10 of 100 requests, and 9 and 1 of every 10 in a row", async () => {
  await using stable = backend("stable");
  await using canary = backend("canary");
  await using t = inProcess({
    pools: { stable: { backends: [stable.origin] }, canary: { backends: [canary.origin] } },
    routes: [{ name: "rollout", match: {}, split: { stable: 90, canary: 10 } }],
  });
  const before = await t.metrics();
  const names: string[] = [];
  // One at a time, so answers come back in pick order.
  for (let i = 0; i < 100; i++) {
    const res = await t.send("http://example.com/");
    assert.equal(res.status, 200, res.body);
    names.push(res.echo().name);
  }
  assert.deepEqual(tally(names), { stable: 90, canary: 10 });
  for (let start = 0; start + 10 <= names.length; start++) {
    const window = tally(names.slice(start, start + 10));
    assert.deepEqual(window, { stable: 9, canary: 1 }, `requests ${start}..${start + 9}`);
  }
  assert.equal(stable.seen.length, 90);
  assert.equal(canary.seen.length, 10);
  // Split traffic is counted under the route and the pool that took it.
  const after = await t.metrics();
  for (const [pool, n] of [["stable", 90], ["canary", 10]] as const) {
    const labels = { route: "rollout", pool, code: "2xx" };
    assert.equal(
      metric(after, "lb_requests_total", labels) - metric(before, "lb_requests_total", labels),
      n,
      JSON.stringify(series(after, "lb_requests_total")),
    );
  }
});

Deno.test("lb_requests_total carries route, pool, backend, method and class, and rises by exactly the requests sent", async () => {
  await using api = backend("api");
  await using web = backend("web");
  await using t = inProcess({
    pools: { api: { backends: [api.origin] }, web: { backends: [web.origin] } },
    routes: [
      { name: "api-route", match: { "path-prefix": "/api" }, pool: "api" },
      { name: "web-route", match: { "path-prefix": "/web" }, pool: "web" },
    ],
  });
  const count = (text: string, labels: Record<string, string>) =>
    metric(text, "lb_requests_total", labels);
  // A first round, so every series exists before the counted one.
  await t.send("http://example.com/api");
  await t.send("http://example.com/web");
  await t.send("http://example.com/api", { method: "POST", body: "x" });
  const before = await t.metrics();
  for (let i = 0; i < 7; i++) assert.equal((await t.send("http://example.com/api/x")).status, 200);
  for (let i = 0; i < 5; i++) assert.equal((await t.send("http://example.com/web/x")).status, 200);
  for (let i = 0; i < 3; i++) {
    const res = await t.send("http://example.com/api/x", { method: "POST", body: "b" });
    assert.equal(res.status, 200);
  }
  for (let i = 0; i < 2; i++) {
    assert.equal((await t.send("http://example.com/nowhere")).status, 404);
  }
  const after = await t.metrics();
  const api2xx = {
    route: "api-route",
    pool: "api",
    backend: api.origin,
    method: "GET",
    code: "2xx",
  };
  const expected: [Record<string, string>, number][] = [
    [api2xx, 7],
    [{ ...api2xx, method: "POST" }, 3],
    [{ route: "web-route", pool: "web", backend: web.origin, method: "GET", code: "2xx" }, 5],
    [{ route: "api-route" }, 10],
    [{ pool: "web" }, 5],
    [{ code: "4xx" }, 2],
  ];
  const all = JSON.stringify(series(after, "lb_requests_total"));
  for (const [labels, n] of expected) {
    assert.equal(
      count(after, labels) - count(before, labels),
      n,
      `${JSON.stringify(labels)}: ${all}`,
    );
  }
  assert.equal(count(after, {}) - count(before, {}), 17, all);
});

Deno.test("the real lb routes by host and by path to two pools, rewrites, 404s the rest and counts by route", async () => {
  await using api = backend("api");
  await using web = backend("web");
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/lb.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        pools: { api: { backends: [api.origin] }, web: { backends: [{ url: web.origin }] } },
        routes: [
          { name: "api-host", match: { host: "api.example.com" }, pool: "api" },
          { name: "web-host", match: { host: "*.example.com" }, pool: "web" },
          {
            name: "api-path",
            match: { "path-prefix": "/api" },
            pool: "api",
            "strip-prefix": "/api",
            "replace-prefix": "/v1",
          },
        ],
      }),
    );
    await using lb = await startLb([], ["--config", path]);
    const get = async (host: string, target: string) => {
      const res = await rawRequest(lb.port, [`GET ${target} HTTP/1.1`, `Host: ${host}`]);
      const text = decoder.decode(res.body);
      return { status: res.status, echo: res.status === 200 ? JSON.parse(text) : undefined, text };
    };
    const a = await get("api.example.com", "/x?y=1");
    assert.equal(a.status, 200, a.text);
    assert.deepEqual([a.echo.name, a.echo.path], ["api", "/x?y=1"]);
    const w = await get("shop.example.com", "/api/x");
    assert.equal(w.status, 200, w.text);
    assert.deepEqual([w.echo.name, w.echo.path], ["web", "/api/x"]);
    const p = await get("elsewhere.test", "/api/users?id=3");
    assert.equal(p.status, 200, p.text);
    assert.deepEqual([p.echo.name, p.echo.path], ["api", "/v1/users?id=3"]);
    assert.equal((await get("elsewhere.test", "/apix")).status, 404);
    assert.equal((await get("example.com", "/")).status, 404);

    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    const all = JSON.stringify(series(text, "lb_requests_total"));
    for (const [route, pool] of [["api-host", "api"], ["web-host", "web"], ["api-path", "api"]]) {
      assert.equal(
        metric(text, "lb_requests_total", { route, pool, method: "GET", code: "2xx" }),
        1,
        `${route}: ${all}`,
      );
    }
    assert.equal(metric(text, "lb_requests_total", { code: "4xx" }), 2, all);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
