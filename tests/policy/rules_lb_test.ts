/**
 * IP rules, header rules, retries on answers and the policies' merge,
 * through a whole lb (in-process, `lb.handle`) in front of real loopback
 * backends that echo what reached them.
 */

import assert from "node:assert/strict";
import { checkConfig, withConfig } from "./_config.ts";
import { inProcess, samples } from "../routes/_routes.ts";
import { parseConfig } from "../../mod.ts";

/** A backend answering `status` with the request's fields as JSON, counting requests (not probes of `/`). */
function echoBackend(name: string, status = 200) {
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname !== "/") count++; // not the health checks
    const headers = Object.fromEntries(req.headers);
    return Response.json({ name, headers }, {
      status,
      headers: { "x-powered-by": "test", server: name },
    });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    get count() {
      return count;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("ip: a denied or not-allowed client gets 403 and never reaches a backend; the forwarded address counts behind a trusted proxy", async () => {
  await using be = echoBackend("a");
  await using lb = inProcess({
    backends: [be.origin],
    "trust-proxy": "10.0.0.0/8",
    routes: [
      {
        name: "inner",
        match: { "path-prefix": "/inner" },
        pool: "default",
        policies: { ip: { allow: ["192.0.2.0/24", "2001:db8::/32"], deny: ["192.0.2.66"] } },
      },
      { name: "open", match: {}, pool: "default" },
    ],
    policies: { ip: { deny: ["203.0.113.0/24"] } },
  });
  const get = async (path: string, ip: string, headers: Record<string, string> = {}) => {
    const res = await lb.lb.handle(
      new Request(`http://site.test${path}`, { headers: { host: "site.test", ...headers } }),
      ip,
    );
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await get("/inner/x", "192.0.2.1"), 200);
  assert.equal(await get("/inner/x", "2001:db8::5"), 200);
  assert.equal(await get("/inner/x", "192.0.2.66"), 403);
  assert.equal(await get("/inner/x", "198.51.100.1"), 403);
  // The route's own ip rules replaced the defaults: 203.0.113.x is only denied elsewhere.
  assert.equal(await get("/inner/x", "203.0.113.5"), 403); // not in allow
  assert.equal(await get("/other", "203.0.113.5"), 403);
  assert.equal(await get("/other", "198.51.100.1"), 200);
  // Behind a trusted proxy, the address it forwards is the client's.
  assert.equal(await get("/other", "10.1.1.1", { "x-forwarded-for": "203.0.113.5" }), 403);
  assert.equal(await get("/inner/x", "10.1.1.1", { "x-forwarded-for": "192.0.2.7" }), 200);
  // An untrusted peer can't claim another address.
  assert.equal(await get("/inner/x", "198.51.100.1", { "x-forwarded-for": "192.0.2.7" }), 403);
  assert.equal(be.count, 4);
  const denied = samples(await lb.metrics()).filter((s) => s.name === "lb_policy_denied_total");
  const by = Object.fromEntries(
    denied.map((s) => [`${s.labels.route}/${s.labels.policy}`, s.value]),
  );
  assert.deepEqual(by, { "inner/ip": 4, "open/ip": 2 });
});

Deno.test("headers: request rules reach the backend, response rules the client, with variables; refusals pass response rules too", async () => {
  await using be = echoBackend("a");
  await using lb = inProcess({
    backends: [be.origin],
    policies: {
      "request-id": true,
      headers: {
        request: {
          set: { "x-route": "${route}", "x-id": "${request_id}" },
          add: { "x-client": "${client_ip}" },
          remove: ["cookie"],
        },
        response: {
          set: { "x-served-by": "${backend} for ${pool}" },
          remove: ["x-powered-by", "server"],
        },
      },
    },
    routes: [
      { name: "web", match: {}, pool: "default" },
    ],
  });
  const res = await lb.lb.handle(
    new Request("http://site.test/p", {
      headers: { host: "site.test", cookie: "secret=1", "x-route": "forged" },
    }),
    "192.0.2.44",
  );
  const seen = (await res.json()).headers as Record<string, string>;
  assert.equal(seen["x-route"], "web");
  assert.equal(seen["x-client"], "192.0.2.44");
  assert.equal(seen.cookie, undefined);
  assert.match(seen["x-id"], /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.get("x-request-id"), seen["x-id"]);
  assert.equal(res.headers.get("x-served-by"), `${be.origin} for default`);
  assert.equal(res.headers.get("x-powered-by"), null);
  assert.equal(res.headers.get("server"), null);
  const counted = samples(await lb.metrics()).filter((s) =>
    (s.name === "lb_header_rules_total" || s.name === "lb_request_ids_total") && s.value > 0
  ).map((s) => `${s.name}{${s.labels.route},${s.labels.side ?? s.labels.source}} ${s.value}`);
  assert.deepEqual(counted.sort(), [
    "lb_header_rules_total{web,request} 1",
    "lb_header_rules_total{web,response} 1",
    "lb_request_ids_total{web,generated} 1",
  ]);
});

Deno.test("retry on-status: an idempotent request that gets a listed status goes to another backend; a POST or an unlisted status does not", async () => {
  await using bad = echoBackend("bad", 503);
  await using good = echoBackend("good");
  await using lb = inProcess({
    backends: [bad.origin, good.origin],
    strategy: "round-robin",
    retries: 2,
    "retry-budget": 100,
    "health-path": "/",
    "health-interval": "1h",
    policies: { retry: { "on-status": [503] } },
  });
  for (let i = 0; i < 4; i++) {
    const a = await lb.send("http://site.test/x");
    assert.equal(a.status, 200);
    assert.equal(JSON.parse(a.body).name, "good");
  }
  // A POST is never sent twice: whoever answered, answered.
  const posts = await Promise.all(
    [0, 1].map(() => lb.send("http://site.test/x", { method: "POST", body: "b" })),
  );
  assert.deepEqual(posts.map((p) => p.status).sort(), [200, 503]);
  const retries = samples(await lb.metrics()).filter((s) =>
    s.name === "lb_retries_total" && s.labels.reason === "status_503"
  );
  assert.equal(retries.reduce((n, s) => n + s.value, 0), bad.count - 1);
});

Deno.test("retry on-status: with no other backend left the backend's answer goes to the client as it is", async () => {
  await using bad = echoBackend("bad", 503);
  await using lb = inProcess({
    backends: [bad.origin],
    retries: 2,
    "health-interval": "1h",
    policies: { retry: { "on-status": [502, 503] } },
  });
  const a = await lb.send("http://site.test/x");
  assert.equal(a.status, 503);
  assert.equal(JSON.parse(a.body).name, "bad");
  assert.equal(bad.count, 1);
});

Deno.test("policies: a route's entry replaces the default, false turns it off, and /status shows them without secrets", async () => {
  await using be = echoBackend("a");
  await using lb = inProcess({
    backends: [be.origin],
    policies: { "request-id": { header: "x-trace-id" }, ip: { deny: ["192.0.2.0/24"] } },
    routes: [
      { name: "quiet", match: { path: "/q" }, pool: "default", policies: { "request-id": false } },
      { name: "rest", match: {}, pool: "default" },
    ],
  });
  const q = await lb.send("http://site.test/q");
  assert.equal(q.headers.get("x-trace-id"), null);
  const r = await lb.send("http://site.test/r");
  assert.ok(r.headers.get("x-trace-id"));
  const routes = (await lb.status()).routes;
  assert.deepEqual(routes.map((r) => r.policies), [
    { ip: { deny: ["192.0.2.0/24"] } },
    {
      "request-id": { header: "x-trace-id", trustIncoming: true, echo: true },
      ip: { deny: ["192.0.2.0/24"] },
    },
  ]);
});

Deno.test("policies: bad values are errors naming the key", () => {
  const problems = (policies: unknown) => {
    try {
      parseConfig({ backends: ["http://127.0.0.1:1"], policies });
      return [];
    } catch (err) {
      return (err as Error).message.split("\n");
    }
  };
  const one = (policies: unknown, pattern: RegExp) => {
    const found = problems(policies);
    assert.ok(
      found.some((m) => pattern.test(m)),
      `${JSON.stringify(policies)}: ${found.join(" | ")}`,
    );
  };
  one(
    { ip: { deny: ["10.0.0.0/33"] } },
    /policies\.ip\.deny: "10\.0\.0\.0\/33" is not an IP address or CIDR/,
  );
  one(
    { headers: { request: { set: { "transfer-encoding": "x" } } } },
    /policies\.headers\.request\.set\.transfer-encoding: transfer-encoding is a hop-by-hop or framing field/,
  );
  one(
    { headers: { response: { remove: ["Content-Length"] } } },
    /policies\.headers\.response\.remove: content-length is a hop-by-hop/,
  );
  one({ headers: { request: { set: { "bad name": "x" } } } }, /is not a field name/);
  one({ headers: { request: { set: { "x-a": "a\r\nb" } } } }, /can't hold CR, LF, NUL/);
  one({ headers: { request: { set: { "x-a": "${nope}" } } } }, /unknown variable \$\{nope\}/);
  one(
    { headers: { request: { set: { "x-a": "${backend}" } } } },
    /\$\{backend\} is known only to response rules/,
  );
  one({ retry: { "on-status": [404] } }, /policies\.retry/);
  one(
    { "request-id": { header: "Content-Length" } },
    /request-id\.header: content-length is a hop-by-hop or framing field/,
  );
  one({ nonsense: true }, /policies/);
  assert.deepEqual(problems({ ip: false, headers: false }), []);
});

Deno.test("policies: lb exits 2 on a bad policy in its config file, naming the key", async () => {
  const yaml = "backends: [http://127.0.0.1:1]\nroutes:\n  - match: {}\n    pool: default\n" +
    "    policies: { ip: { allow: [not-an-ip] } }\n";
  await withConfig(yaml, async (file) => {
    const out = await checkConfig(file);
    assert.equal(out.code, 2);
    assert.match(
      out.stderr,
      /routes\[0\]\.policies\.ip\.allow: "not-an-ip" is not an IP address or CIDR/,
    );
  }, "lb.yaml");
});

Deno.test("retry on-status: when the retry itself fails, the client gets the first backend's answer, not a 502", async () => {
  await using bad = echoBackend("bad", 503);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  await using lb = inProcess({
    backends: [bad.origin, dead],
    strategy: "round-robin",
    retries: 1,
    "retry-budget": 100,
    "health-interval": "1h",
    "health-fall": 3,
    policies: { retry: { "on-status": [503] } },
  });
  for (let i = 0; i < 2; i++) {
    const a = await lb.send("http://site.test/x");
    // Either the first pick was the dead one (refused, retried on "bad": its 503), or "bad"
    // answered 503, was kept, and the retry on the dead one failed: "bad"'s 503 again.
    assert.equal(a.status, 503);
    assert.equal(JSON.parse(a.body).name, "bad");
  }
  const m = samples(await lb.metrics());
  const statusRetries = m.filter((s) =>
    s.name === "lb_retries_total" && s.labels.reason === "status_503"
  )
    .reduce((n, s) => n + s.value, 0);
  assert.equal(statusRetries, 1, "one of the two requests retried its 503 and kept it");
});
