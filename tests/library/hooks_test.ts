/**
 * The library's hooks, through the whole lb in-process (`handle`, no
 * traffic listener): each one changes what it says and nothing else, and
 * an lb without hooks answers as before.
 */

import assert from "node:assert/strict";
import {
  type AccessRecord,
  type Backend,
  type LbHooks,
  parseConfig,
  type PickContext,
  startLoadBalancer,
  type Strategy,
} from "../../mod.ts";

/** A backend that echoes what it got: method, path and one header. */
function echo(name: string) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      Response.json({
        name,
        method: req.method,
        path: new URL(req.url).pathname + new URL(req.url).search,
        tag: req.headers.get("x-tag"),
      }, { headers: { "x-backend": name } }),
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function withLb(
  hooks: LbHooks,
  run: (handle: (path: string, init?: RequestInit) => Promise<Response>) => Promise<void>,
) {
  const a = echo("a");
  const b = echo("b");
  const lb = startLoadBalancer(
    parseConfig({
      host: "127.0.0.1",
      port: 0,
      "admin-host": "127.0.0.1",
      "admin-port": 0,
      "health-interval": "1s",
      "shutdown-timeout": "1s",
      pools: { a: { backends: [a.url] }, b: { backends: [b.url] } },
      routes: [
        { name: "to-b", match: { "path-prefix": "/b" }, pool: "b", "strip-prefix": "/b" },
        { name: "to-a", match: {}, pool: "a" },
      ],
    }),
    { hooks, listen: false },
  );
  try {
    await run((path, init) => lb.handle(new Request(`http://lb.test${path}`, init)));
  } finally {
    await lb.shutdown();
    await a.close();
    await b.close();
  }
}

Deno.test("no hooks: routes by the config", async () => {
  await withLb({}, async (handle) => {
    assert.equal((await (await handle("/x")).json()).name, "a");
    const res = await (await handle("/b/y?q=1")).json();
    assert.deepEqual([res.name, res.path], ["b", "/y?q=1"]);
  });
});

Deno.test("onRequest: answers itself, chooses a route, or lets routing decide", async () => {
  const seen: string[] = [];
  await withLb({
    onRequest(req) {
      seen.push(req.path);
      if (req.path === "/deny") return new Response("no\n", { status: 403 });
      if (req.path === "/force") return { route: "to-b" };
      return undefined;
    },
  }, async (handle) => {
    const denied = await handle("/deny");
    assert.deepEqual([denied.status, await denied.text()], [403, "no\n"]);
    assert.equal((await (await handle("/force")).json()).name, "b");
    assert.equal((await (await handle("/other")).json()).name, "a");
  });
  assert.deepEqual(seen, ["/deny", "/force", "/other"]);
});

Deno.test("onRequest may be async, and a route it names that doesn't exist is a 404", async () => {
  await withLb({
    onRequest: async (req) => {
      await new Promise((r) => setTimeout(r, 5));
      return req.path === "/nowhere" ? { route: "missing" } : undefined;
    },
  }, async (handle) => {
    assert.equal((await (await handle("/x")).json()).name, "a");
    const res = await handle("/nowhere");
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("rewriteRequest changes path and headers after the proxy's own rules", async () => {
  await withLb({
    rewriteRequest(draft, ctx) {
      draft.path = `/v2${draft.path}`;
      draft.headers.push(["x-tag", `${ctx.route}:${ctx.pool}`]);
    },
  }, async (handle) => {
    const res = await (await handle("/b/thing")).json();
    assert.deepEqual([res.name, res.path, res.tag], ["b", "/v2/thing", "to-b:b"]);
  });
});

Deno.test("strategy: a custom strategy picks within its pool", async () => {
  const picks: string[] = [];
  class Recording implements Strategy {
    pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
      picks.push(ctx.request.path);
      return snapshot.find((b) => !ctx.exclude?.has(b));
    }
  }
  await withLb({
    strategy: (pool) => pool.name === "a" ? new Recording() : undefined,
  }, async (handle) => {
    assert.equal((await (await handle("/p1")).json()).name, "a");
    assert.equal((await (await handle("/b/p2")).json()).name, "b");
  });
  assert.deepEqual(picks, ["/p1"]);
});

Deno.test("modifyResponse changes status and headers of a backend's answer", async () => {
  await withLb({
    modifyResponse(draft, ctx) {
      draft.headers.push(["x-served-by", `${ctx.pool}/${new URL(ctx.backend.origin).port}`]);
      if (ctx.request.path === "/teapot") draft.status = 418;
    },
  }, async (handle) => {
    const res = await handle("/teapot");
    assert.equal(res.status, 418);
    assert.match(res.headers.get("x-served-by") ?? "", /^a\/\d+$/);
    assert.equal(res.headers.get("x-backend"), "a");
    await res.body?.cancel();
  });
});

Deno.test("errorResponse shapes failures; others keep the plain text", async () => {
  await withLb({
    errorResponse: (info) =>
      info.status === 404
        ? Response.json({ error: "no route", path: info.request.path }, { status: 404 })
        : undefined,
    onRequest: (req) => req.path === "/none" ? { route: "missing" } : undefined,
  }, async (handle) => {
    const res = await handle("/none");
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "no route", path: "/none" });
    const bad = await handle("/x", { headers: { "content-length": "5" }, method: "GET" });
    await bad.body?.cancel();
  });
});

Deno.test("onLog sees one record per request, with route, pool and backend", async () => {
  const records: AccessRecord[] = [];
  await withLb({ onLog: (r) => records.push(r) }, async (handle) => {
    await (await handle("/b/one")).text();
    await (await handle("/two")).text();
  });
  assert.deepEqual(
    records.map((r) => [r.method, r.path, r.status, r.route, r.pool, r.backend.startsWith("http")]),
    [["GET", "/b/one", 200, "to-b", "b", true], ["GET", "/two", 200, "to-a", "a", true]],
  );
  assert.ok(records.every((r) => r.bytes > 0 && r.durationMs >= 0 && r.client === "127.0.0.1"));
});
