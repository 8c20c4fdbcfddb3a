/**
 * `X-LB-Explain` through the real `lb` program: with the admin token a
 * request gets the field naming its route (and why), the p2c candidates
 * with their scores, its attempts (a backend answering 503 makes a retry
 * show) and what the route's policies did; the JSON access log's line has
 * the same record nested. A wrong token gets nothing, and no backend ever
 * sees the field.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startLb, waitFor } from "./_lb.ts";

const TOKEN = "explain-test-token-0123456789";

/** A backend answering `status` (200 on `/`, the health path), recording the fields it got. */
function backend(name: string, status: number) {
  const seen: Record<string, string>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname === "/") return new Response("ok");
    seen.push(Object.fromEntries(req.headers));
    // A backend's own X-LB-Explain is replaced by the lb's when explaining.
    return new Response(`${name}\n`, { status, headers: { "x-lb-explain": "from-backend" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("explain: the admin token gets route, candidates, attempts and policies; a wrong one nothing; the backend never sees it", async () => {
  await using good = backend("good", 200);
  await using busy = backend("busy", 503);
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/lb.json`;
    const accessLog = `${dir}/access.log`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        pools: {
          api: { backends: [good.origin, busy.origin], strategy: "p2c-ewma", retries: 1 },
          web: { backends: [good.origin] },
        },
        routes: [
          { name: "web", match: { host: "web.test" }, pool: "web" },
          {
            name: "api",
            match: { "path-prefix": "/api", method: ["GET"] },
            pool: "api",
            policies: {
              retry: { "on-status": [503] },
              "rate-limit": { limit: 1000, period: "1s", burst: 1000 },
              headers: { request: { set: { "x-route": "${route}" } } },
              ip: { allow: ["127.0.0.0/8"] },
            },
          },
        ],
      }),
    );
    await using lb = await startLb([], [
      "--config",
      config,
      "--admin-token",
      TOKEN,
      "--access-log-format",
      "json",
      "--access-log-file",
      accessLog,
    ]);
    // Both backends up, so p2c draws two.
    await waitFor(
      async () => {
        const s = await (await fetch(`${lb.adminUrl}/status`)).json();
        return s.backends.filter((b: { state: string }) => b.state === "up").length >= 2;
      },
      10_000,
      "both backends up",
    );

    // Until one request's first pick is the busy backend: its 503 is retried on the good one.
    let explained: Record<string, unknown> | undefined;
    for (let i = 0; i < 40 && explained === undefined; i++) {
      const res = await fetch(`${lb.url}/api/x?i=${i}`, { headers: { "x-lb-explain": TOKEN } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "good\n");
      const field = res.headers.get("x-lb-explain");
      assert.ok(
        field !== null && field !== "from-backend",
        "the lb's field replaces the backend's",
      );
      assert.ok(/^[\x20-\x7e]+$/.test(field), "one ASCII line");
      const parsed = JSON.parse(field);
      if ((parsed.attempts as unknown[]).length === 2) explained = parsed;
    }
    assert.ok(explained, "some request tried the busy backend first");
    const e = explained as {
      route: { name: string; why: string[]; skipped: { route: string; failed: string }[] };
      pool: string;
      strategy: string;
      candidates: { pick: number; backend: string; score: number; inFlight: number }[];
      attempts: { backend: string; outcome: number; retry?: string }[];
      policies: string[];
    };
    assert.equal(e.route.name, "api");
    assert.deepEqual(e.route.why, ["method GET matched", "prefix /api matched"]);
    assert.deepEqual(e.route.skipped, [{ route: "web", failed: "host" }]);
    assert.equal(e.pool, "api");
    assert.equal(e.strategy, "p2c-ewma");
    // The first pick weighed both backends; the retry had only the good one left.
    const first = e.candidates.filter((c) => c.pick === 0);
    assert.deepEqual(first.map((c) => c.backend).sort(), [good.origin, busy.origin].sort());
    for (const c of first) {
      assert.equal(typeof c.score, "number");
      assert.equal(typeof c.inFlight, "number");
    }
    assert.deepEqual(e.attempts, [
      { backend: busy.origin, outcome: 503, retry: "status_503" },
      { backend: good.origin, outcome: 200 },
    ]);
    assert.ok(e.policies.includes("ip: allowed 127.0.0.1"), e.policies.join("; "));
    assert.ok(e.policies.some((p) => /^rate-limit: api: allowed, \d+ left$/.test(p)));
    assert.ok(e.policies.includes("headers: request: set 1, added 0, removed 0 fields"));

    // A wrong token: no field from the lb (the backend's own passes as it is).
    const wrong = await fetch(`${lb.url}/api/y`, { headers: { "x-lb-explain": "not-the-token" } });
    await wrong.body?.cancel();
    const field = wrong.headers.get("x-lb-explain");
    assert.ok(field === null || field === "from-backend", `wrong token got ${field}`);

    // No route: the 404 the core makes is explained too.
    const none = await fetch(`${lb.url}/nothing`, { headers: { "x-lb-explain": TOKEN } });
    await none.body?.cancel();
    assert.equal(none.status, 404);
    const missed = JSON.parse(none.headers.get("x-lb-explain")!);
    assert.equal(missed.noRoute, "no route matched");
    assert.deepEqual(missed.route.skipped, [
      { route: "web", failed: "host" },
      { route: "api", failed: "prefix" },
    ]);

    // No backend ever saw the field, with the token or without.
    for (const fields of [...good.seen, ...busy.seen]) {
      assert.equal(fields["x-lb-explain"], undefined);
    }
    assert.ok(good.seen.some((f) => f["x-route"] === "api"));

    // The JSON access log: the explained requests' lines have the record, nested.
    let lines: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        const text = await Deno.readTextFile(accessLog).catch(() => "");
        lines = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
        return lines.some((l) => l.status === 404);
      },
      5000,
      "the access log's lines",
    );
    const logged = lines.find((l) =>
      (l.explain as { attempts?: unknown[] } | undefined)?.attempts?.length === 2
    );
    assert.ok(logged, "an explained line with the retry");
    assert.equal((logged.explain as { route: { name: string } }).route.name, "api");
    const unexplained = lines.find((l) => l.path === "/api/y");
    assert.ok(unexplained && !("explain" in unexplained), "a wrong token's line has no explain");
    assert.equal(await lb.stop(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
