/**
 * Local rate limits through a real lb process (main.ts, loopback port 0)
 * in front of a real backend: a burst of N+k gets exactly k 429s with
 * Retry-After and the IETF fields, keys by field and cookie keep clients
 * apart, the metrics and `/status` show it, a reload keeps the buckets,
 * and a bad value stops the lb with exit 2 naming the key.
 */

import assert from "node:assert/strict";
import { checkConfig, withConfig } from "./_config.ts";
import { type LbProcess, startLb } from "../_lb.ts";
import { httpServer } from "../_http.ts";
import { metric } from "../routes/_routes.ts";

/** A backend counting the requests that reached it (not the health checks of `/`). */
function countingBackend() {
  let count = 0;
  const server = httpServer((req) => {
    if (new URL(req.url).pathname !== "/") count++;
    return new Response("ok\n", { headers: { "x-backend": "a" } });
  });
  return {
    origin: server.origin,
    get count() {
      return count;
    },
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

interface Got {
  readonly status: number;
  readonly headers: Headers;
}

async function get(
  lb: LbProcess,
  path: string,
  headers: Record<string, string> = {},
): Promise<Got> {
  const res = await fetch(`${lb.url}${path}`, { headers });
  await res.body?.cancel();
  return { status: res.status, headers: res.headers };
}

Deno.test("rate-limit through lb: N+k requests at once get exactly k 429s with Retry-After and RateLimit fields", async () => {
  await using be = countingBackend();
  const config = {
    backends: [be.origin],
    routes: [
      {
        name: "api",
        match: { "path-prefix": "/api" },
        pool: "default",
        // 5 an hour: no token comes back while the test runs.
        policies: { "rate-limit": { limit: 5, period: "1h" } },
      },
      { name: "open", match: {}, pool: "default" },
    ],
  };
  await withConfig(config, async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const n = 5, k = 4;
    const all = await Promise.all(Array.from({ length: n + k }, () => get(lb, "/api/x")));
    const refused = all.filter((r) => r.status === 429);
    assert.equal(refused.length, k, all.map((r) => r.status).join(","));
    assert.equal(all.filter((r) => r.status === 200).length, n);
    assert.equal(be.count, n);
    for (const r of refused) {
      // 5 per 3600 s: the next token is 720 s away.
      assert.equal(r.headers.get("retry-after"), "720");
      assert.equal(r.headers.get("ratelimit"), '"api";r=0;t=720');
      assert.equal(r.headers.get("ratelimit-policy"), '"api";q=5;w=3600');
    }
    const remaining = all.filter((r) => r.status === 200).map((r) => r.headers.get("ratelimit"))
      .sort();
    assert.deepEqual(remaining, [0, 1, 2, 3, 4].map((r) => `"api";r=${r};t=720`));
    // Other routes have no limit and no fields.
    const open = await get(lb, "/elsewhere");
    assert.equal(open.status, 200);
    assert.equal(open.headers.get("ratelimit"), null);
    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.equal(metric(text, "lb_policy_denied_total", { route: "api", policy: "rate-limit" }), k);
    assert.equal(metric(text, "lb_rate_limit_keys", { route: "api" }), 1);
    const status = await (await fetch(`${lb.adminUrl}/status`)).json();
    const api = status.routes.find((r: { name: string }) => r.name === "api");
    assert.deepEqual(api.policies["rate-limit"], {
      name: "api",
      key: ["ip"],
      limit: 5,
      period: "60m",
      burst: 5,
      maxKeys: 100000,
      headers: "always",
    });
  });
});

Deno.test("rate-limit through lb: keys by field and cookie keep clients apart; a request without them shares the empty key", async () => {
  await using be = countingBackend();
  const config = {
    backends: [be.origin],
    policies: {
      "rate-limit": { limit: 2, period: "1h", key: ["header:x-api-key", "cookie:session"] },
    },
    routes: [{ name: "keyed", match: {}, pool: "default" }],
  };
  await withConfig(config, async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const as = async (headers: Record<string, string>, times: number) => {
      const out: number[] = [];
      for (let i = 0; i < times; i++) out.push((await get(lb, "/k", headers)).status);
      return out;
    };
    assert.deepEqual(await as({ "x-api-key": "alice" }, 3), [200, 200, 429]);
    assert.deepEqual(await as({ "x-api-key": "bob" }, 3), [200, 200, 429]);
    // Same field, another session cookie: another bucket.
    assert.deepEqual(await as({ "x-api-key": "alice", cookie: "theme=x; session=s1" }, 3), [
      200,
      200,
      429,
    ]);
    assert.deepEqual(await as({}, 3), [200, 200, 429]);
    assert.deepEqual(await as({ "x-api-key": "alice" }, 1), [429]);
    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.equal(metric(text, "lb_rate_limit_keys", { route: "keyed" }), 4);
    assert.equal(
      metric(text, "lb_policy_denied_total", { route: "keyed", policy: "rate-limit" }),
      5,
    );
  });
});

Deno.test("rate-limit through lb: max-keys bounds the table, a reload keeps the buckets, and a bad value exits 2 naming the key", async () => {
  await using be = countingBackend();
  const config = (limit: number) => ({
    backends: [be.origin],
    routes: [{
      name: "api",
      match: {},
      pool: "default",
      policies: { "rate-limit": { limit, period: "1h", key: ["header:x-client"], "max-keys": 3 } },
    }],
  });
  await withConfig(config(1), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    for (let i = 0; i < 10; i++) await get(lb, "/", { "x-client": `c${i}` });
    let text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.equal(metric(text, "lb_rate_limit_keys", { route: "api" }), 3);
    assert.equal((await get(lb, "/", { "x-client": "c9" })).status, 429);
    // A reload (another limit) builds the policy again over the same buckets: c9 is still spent.
    await Deno.writeTextFile(path, JSON.stringify(config(2)));
    lb.proc.signal("SIGHUP");
    await lb.proc.waitForLine(/configuration reloaded/);
    const after = await get(lb, "/", { "x-client": "c9" });
    assert.equal(after.headers.get("ratelimit-policy"), '"api";q=2;w=3600');
    // 1 token an hour was spent; the bigger bucket adds what refilled since, a fraction.
    assert.equal(after.status, 429);
    text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.equal(metric(text, "lb_rate_limit_keys", { route: "api" }), 3);
  });
  const bad = {
    backends: [be.origin],
    routes: [{
      match: {},
      pool: "default",
      policies: { "rate-limit": { limit: 10, period: "100ms" } },
    }],
  };
  await withConfig(bad, async (path) => {
    const out = await checkConfig(path);
    assert.equal(out.code, 2);
    assert.match(
      out.stderr,
      /lb\.json: routes\[0\]\.policies\.rate-limit\.period: "100ms" is not a period in whole seconds/,
    );
  });
});
