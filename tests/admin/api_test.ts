/**
 * The admin API (`lib/admin/api.ts`) through `createAdminHandler` with one
 * real pool, addressed by the single-pool `/api/backends` paths: every
 * route, every refusal, and that a refused request changes nothing. The
 * pool-addressed paths and several pools are in `pools_test.ts`.
 */

import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { READ_ONLY_MESSAGE } from "../../lib/admin/api.ts";
import { waitFor } from "../_lb.ts";
import { A, B, C, call, enc, setup, snapshot, TOKEN } from "./_admin.ts";

Deno.test("GET /api/backends lists every backend, without a token", async () => {
  using t = setup({ token: null });
  const res = await call(t.handler, "/api/backends", { auth: null });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(res.json.backends.map((b: { url: string }) => b.url), [A, B]);
  const [a] = res.json.backends;
  assert.deepEqual(Object.keys(a).sort(), [
    "effectiveWeight",
    "ejections",
    "failures",
    "inFlight",
    "lastChange",
    "reason",
    "requests",
    "state",
    "url",
    "weight",
  ]);
  assert.equal(a.state, "up");
  assert.equal(a.weight, 1);
  assert.equal(a.effectiveWeight, 1);
  assert.equal(a.inFlight, 0);
  assert.equal(a.ejections, 0);
  assert.equal(new Date(a.lastChange).toISOString(), a.lastChange);
  assert.equal((await call(t.handler, "/api/backends", { method: "HEAD" })).status, 200);
  assert.equal(res.json.pool, "default");

  // One backend, as listed; also in the forms --backends accepts.
  for (
    const path of [`/api/backends/${enc(B)}`, `/api/backends/${B}`, "/api/backends/127.0.0.1:9002"]
  ) {
    const one = await call(t.handler, path, { auth: null });
    assert.equal(one.status, 200, path);
    assert.deepEqual(one.json, res.json.backends[1]);
  }
  const head = await call(t.handler, `/api/backends/${enc(B)}`, { method: "HEAD", auth: null });
  assert.equal(head.status, 200);
});

Deno.test("POST /api/backends adds a backend that waits for a health check", async () => {
  using t = setup();
  const res = await call(t.handler, "/api/backends", {
    method: "POST",
    body: { url: C, weight: 7 },
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), `/api/backends/${enc(C)}`);
  assert.equal(res.json.url, C);
  assert.equal(res.json.weight, 7);
  assert.equal(res.json.state, "down");
  assert.match(res.json.reason, /waiting for a passing health check/);
  const listed = (await call(t.handler, "/api/backends")).json.backends;
  assert.deepEqual(listed.map((b: { url: string }) => b.url), [A, B, C]);
  assert.equal(t.pool.find(C)?.weight, 7);
  assert.ok(!t.pool.healthy.some((b) => b.id === C), "not in rotation before a passing check");
  const report = (await call(t.handler, "/status")).json;
  assert.equal(report.backends[2].url, C);

  // Written as --backends accepts it; stored in canonical form; weight 1 by default.
  const bare = await call(t.handler, "/api/backends", {
    method: "POST",
    body: { url: "LOCALHOST:9004" },
  });
  assert.equal(bare.status, 201);
  assert.equal(bare.json.url, "http://localhost:9004");
  assert.equal(bare.json.weight, 1);
});

Deno.test("POST /api/backends of a backend already present is 409 and changes nothing", async () => {
  using t = setup();
  const before = await snapshot(t.handler);
  for (const url of [A, "127.0.0.1:9001", "http://127.0.0.1:9001/"]) {
    const res = await call(t.handler, "/api/backends", {
      method: "POST",
      body: { url, weight: 9 },
    });
    assert.equal(res.status, 409, url);
    assert.match(
      res.json.error,
      /http:\/\/127\.0\.0\.1:9001 is already in pool "default" \(state up\)/,
    );
  }
  assert.equal(await snapshot(t.handler), before);
});

Deno.test("DELETE /api/backends/{origin} drains, then the backend leaves", async () => {
  using t = setup();
  const a = t.pool.find(A)!;
  a.begin(); // One request in flight.
  const res = await call(t.handler, `/api/backends/${enc(A)}`, { method: "DELETE" });
  assert.equal(res.status, 202);
  assert.deepEqual(res.json, { url: A, draining: true });
  const listed = (await call(t.handler, "/api/backends")).json.backends;
  assert.equal(listed.find((b: { url: string }) => b.url === A).state, "draining");
  assert.equal((await call(t.handler, "/status")).json.backends[0].state, "draining");
  assert.deepEqual(t.pool.healthy.map((b) => b.id), [B]);

  // Asking again reports the same drain; changing a draining backend is refused.
  const again = await call(t.handler, `/api/backends/${enc(A)}`, { method: "DELETE" });
  assert.equal(again.status, 202);
  const weight = await call(t.handler, `/api/backends/${enc(A)}/weight`, {
    method: "PUT",
    body: { weight: 3 },
  });
  assert.equal(weight.status, 409);
  assert.match(weight.json.error, /is draining/);

  // The pool sweeps every 100 ms: it stays while a request is in flight…
  await new Promise((r) => setTimeout(r, 250));
  assert.ok(t.pool.find(A), "still there with a request in flight");
  // …and leaves once the last one finishes.
  a.settle();
  await waitFor(() => t.pool.find(A) === undefined, 2000, "the drained backend to leave");
  const after = (await call(t.handler, "/api/backends")).json.backends;
  assert.deepEqual(after.map((b: { url: string }) => b.url), [B]);
});

Deno.test("PUT /api/backends/{origin}/weight changes the weight at once", async () => {
  using t = setup();
  const res = await call(t.handler, `/api/backends/${enc(B)}/weight`, {
    method: "PUT",
    body: { weight: 5 },
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.url, B);
  assert.equal(res.json.weight, 5);
  assert.equal(res.json.effectiveWeight, 5);
  const listed = (await call(t.handler, "/api/backends")).json.backends;
  assert.equal(listed[1].weight, 5);
  assert.equal((await call(t.handler, "/status")).json.backends[1].weight, 5);
  assert.equal(t.pool.find(B)?.effectiveWeight, 5);

  // The origin may also be written unencoded, as curl users type it.
  const plain = await call(t.handler, `/api/backends/${B}/weight`, {
    method: "PUT",
    body: { weight: 1000 },
  });
  assert.equal(plain.status, 200);
  assert.equal(t.pool.find(B)?.weight, 1000);
});

Deno.test("POST and DELETE /api/backends/{origin}/maintenance take a backend out and back", async () => {
  using t = setup();
  const out = await call(t.handler, `/api/backends/${enc(A)}/maintenance`, { method: "POST" });
  assert.equal(out.status, 200);
  assert.equal(out.json.state, "maintenance");
  assert.deepEqual(t.pool.healthy.map((b) => b.id), [B]);
  assert.equal((await call(t.handler, "/status")).json.backends[0].state, "maintenance");
  // Idempotent.
  const twice = await call(t.handler, `/api/backends/${enc(A)}/maintenance`, { method: "POST" });
  assert.equal(twice.status, 200);

  const back = await call(t.handler, `/api/backends/${enc(A)}/maintenance`, { method: "DELETE" });
  assert.equal(back.status, 200);
  assert.equal(back.json.state, "up");
  assert.deepEqual(t.pool.healthy.map((b) => b.id), [A, B]);
});

/** A request the API must refuse with 400, and what the error must say. */
interface BadCase {
  readonly name: string;
  readonly path?: string;
  readonly method?: string;
  readonly body?: unknown;
  readonly contentType?: string | null;
  readonly error: RegExp;
}

function oversized(): ReadableStream<Uint8Array> {
  // No Content-Length: the limit must hold while reading, too.
  const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent++ < 5) c.enqueue(chunk);
      else c.close();
    },
  });
}

const weightPath = `/api/backends/${enc(A)}/weight`;
const BAD: BadCase[] = [
  { name: "invalid JSON", body: '{"url": ', error: /^body is not valid JSON: / },
  {
    name: "body over 64 KiB (Content-Length)",
    body: JSON.stringify({ url: C, pad: "x".repeat(70_000) }),
    error: /^body is larger than 65536 bytes$/,
  },
  {
    name: "body over 64 KiB (streamed)",
    body: oversized(),
    error: /^body is larger than 65536 bytes$/,
  },
  {
    name: "unknown field",
    body: { url: C, weigth: 2 },
    error: /^unknown field "weigth" \(expected url, weight\)$/,
  },
  { name: "not an object", body: [C], error: /body must be a JSON object .*\(got an array\)/ },
  { name: "url missing", body: { weight: 2 }, error: /"url" must be .*\(got nothing\)/ },
  { name: "url not a string", body: { url: 8081 }, error: /"url" must be .*\(got 8081\)/ },
  {
    name: "url with another scheme",
    body: { url: "ftp://127.0.0.1:9003" },
    error: /"url" "ftp:\/\/127\.0\.0\.1:9003" is not an http URL \(scheme ftp: is not supported/,
  },
  {
    name: "url with a path",
    body: { url: "http://127.0.0.1:9003/app" },
    error: /"url" "http:\/\/127\.0\.0\.1:9003\/app" must not have a path/,
  },
  {
    name: "url that is a list",
    body: { url: `${C},http://127.0.0.1:9004` },
    error: /"url" "http:\/\/127\.0\.0\.1:9003,http:\/\/127\.0\.0\.1:9004" is not an http origin/,
  },
  {
    name: "url with a --backends weight",
    body: { url: `${C}=5` },
    error: /"url" "http:\/\/127\.0\.0\.1:9003=5" is not an http origin/,
  },
  {
    name: "url with port 0",
    body: { url: "http://127.0.0.1:0" },
    error: /"url" "http:\/\/127\.0\.0\.1:0" has port 0/,
  },
  {
    name: "weight 0",
    body: { url: C, weight: 0 },
    error: /"weight" must be a whole number from 1 to 1000 \(got 0\)/,
  },
  { name: "weight 1001", body: { url: C, weight: 1001 }, error: /\(got 1001\)/ },
  { name: "weight 2.5", body: { url: C, weight: 2.5 }, error: /"weight" .*\(got 2\.5\)/ },
  { name: "weight as a string", body: { url: C, weight: "3" }, error: /"weight" .*\(got "3"\)/ },
  {
    name: "url and weight both wrong: both named",
    body: { url: "ftp://x", weight: -1 },
    error: /"url" "ftp:\/\/x" .*; "weight" .*\(got -1\)/,
  },
  {
    name: "Content-Type not JSON",
    body: { url: C },
    contentType: "text/plain",
    error: /^Content-Type must be application\/json \(got "text\/plain"\)$/,
  },
  {
    name: "Content-Type missing",
    // Bytes, not a string: a string body would get a text/plain Content-Type.
    body: new TextEncoder().encode(JSON.stringify({ url: C })),
    contentType: null,
    error: /^Content-Type must be application\/json \(got nothing\)$/,
  },
  {
    name: "weight missing",
    path: weightPath,
    method: "PUT",
    body: {},
    error: /"weight" must be a whole number from 1 to 1000 \(got nothing\)/,
  },
  {
    name: "weight null",
    path: weightPath,
    method: "PUT",
    body: { weight: null },
    error: /\(got null\)/,
  },
  {
    name: "weight body with an unknown field",
    path: weightPath,
    method: "PUT",
    body: { weight: 2, url: A },
    error: /^unknown field "url" \(expected weight\)$/,
  },
  {
    name: "weight body not JSON",
    path: weightPath,
    method: "PUT",
    body: "weight=2",
    error: /^body is not valid JSON/,
  },
  {
    name: "origin not percent-encoded properly",
    path: "/api/backends/%E0%A4%A",
    method: "DELETE",
    error: /backend "%E0%A4%A" in the path is not valid percent-encoding/,
  },
];

Deno.test("bad requests are 400 with an error naming the field and value, and change nothing", async (t) => {
  using s = setup();
  const before = await snapshot(s.handler);
  for (const c of BAD) {
    await t.step(c.name, async () => {
      const res = await call(s.handler, c.path ?? "/api/backends", {
        method: c.method ?? "POST",
        body: c.body,
        contentType: c.contentType,
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.match(res.json.error, c.error);
      assert.equal(await snapshot(s.handler), before);
    });
  }
});

/** Every mutating route, with a valid body. */
const MUTATIONS: { method: string; path: string; body?: unknown }[] = [
  { method: "POST", path: "/api/backends", body: { url: C } },
  { method: "DELETE", path: `/api/backends/${enc(A)}` },
  { method: "PUT", path: `/api/backends/${enc(A)}/weight`, body: { weight: 4 } },
  { method: "POST", path: `/api/backends/${enc(A)}/maintenance` },
  { method: "DELETE", path: `/api/backends/${enc(A)}/maintenance` },
];

Deno.test("mutations without the right bearer token are 401 and change nothing", async () => {
  using t = setup();
  const before = await snapshot(t.handler);
  const cases: [string | null, RegExp][] = [
    [null, /^missing Authorization header/],
    [`Bearer ${TOKEN}x`, /^wrong token$/],
    [`Bearer ${TOKEN.slice(0, -1)}`, /^wrong token$/],
    ["Bearer", /^wrong token$/],
    [`Basic ${btoa(`admin:${TOKEN}`)}`, /^Authorization scheme "Basic" is not Bearer/],
    [TOKEN, /is not Bearer/],
  ];
  for (const m of MUTATIONS) {
    for (const [auth, error] of cases) {
      const res = await call(t.handler, m.path, { ...m, auth });
      assert.equal(res.status, 401, `${m.method} ${m.path} with ${auth}`);
      assert.match(res.json.error, error);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="lb-admin"/);
    }
  }
  assert.equal(await snapshot(t.handler), before);
  // The scheme is case-insensitive (RFC 9110 §11.1).
  const lower = await call(t.handler, MUTATIONS[2].path, {
    ...MUTATIONS[2],
    auth: `bearer ${TOKEN}`,
  });
  assert.equal(lower.status, 200);
});

Deno.test("without a configured token, mutations are 403 and reads stay open", async () => {
  using t = setup({ token: null });
  const before = await snapshot(t.handler);
  for (const m of MUTATIONS) {
    const res = await call(t.handler, m.path, m);
    assert.equal(res.status, 403, `${m.method} ${m.path}`);
    assert.deepEqual(res.json, { error: READ_ONLY_MESSAGE });
    assert.equal(
      READ_ONLY_MESSAGE,
      "the admin API is read-only: start lb with --admin-token or ADMIN_TOKEN",
    );
  }
  assert.equal(await snapshot(t.handler), before);
  assert.equal((await call(t.handler, "/api/backends", { auth: null })).status, 200);
});

Deno.test("unknown backends and paths are 404", async () => {
  using t = setup();
  const unknown = enc("http://127.0.0.1:9999");
  for (
    const [method, path, body] of [
      ["DELETE", `/api/backends/${unknown}`],
      ["PUT", `/api/backends/${unknown}/weight`, { weight: 2 }],
      ["POST", `/api/backends/${unknown}/maintenance`],
      ["DELETE", `/api/backends/${unknown}/maintenance`],
      ["DELETE", `/api/backends/not%20a%20url`],
    ] as const
  ) {
    const res = await call(t.handler, path, { method, body });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.match(
      res.json.error,
      /^no backend ".*" in pool "default" \(GET \/api\/backends lists them\)$/,
    );
  }
  for (
    const path of ["/api", "/api/", "/api/nope", "/api/backends/", `/api/backends/${enc(A)}/x`]
  ) {
    const res = await call(t.handler, path);
    assert.equal(res.status, 404, path);
    assert.match(res.json.error, /^no route .* \(try GET \/api\/pools\)$/);
  }
  assert.equal(t.pool.backends.length, 2);
});

Deno.test("wrong methods on known paths are 405 with Allow", async () => {
  using t = setup();
  const cases: [string, string, string][] = [
    ["PATCH", "/api/backends", "GET, HEAD, POST"],
    ["DELETE", "/api/backends", "GET, HEAD, POST"],
    ["PUT", `/api/backends/${enc(A)}`, "GET, HEAD, DELETE"],
    ["POST", `/api/backends/${enc(A)}`, "GET, HEAD, DELETE"],
    ["GET", `/api/backends/${enc(A)}/weight`, "PUT"],
    ["POST", `/api/backends/${enc(A)}/weight`, "PUT"],
    ["PUT", `/api/backends/${enc(A)}/maintenance`, "POST, DELETE"],
    ["GET", `/api/backends/${enc(A)}/maintenance`, "POST, DELETE"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await call(t.handler, path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow);
    assert.match(res.json.error, new RegExp(`^${method} is not allowed`));
  }
  // The other admin routes are unchanged: GET and HEAD only.
  const status = await t.handler(new Request("http://admin.test/status", { method: "POST" }));
  assert.equal(status.status, 405);
  assert.equal(status.headers.get("allow"), "GET, HEAD");
  await status.body?.cancel();
});

Deno.test("each change is logged once; refusals are not", async () => {
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
    using t = setup();
    const lines = () => records.map((r) => r.message.map(String).join(""));
    await call(t.handler, "/api/backends", { method: "POST", body: { url: C, weight: 2 } });
    await call(t.handler, "/api/backends", { method: "POST", body: { url: C } }); // 409
    await call(t.handler, `/api/backends/${enc(B)}/weight`, { method: "PUT", body: { weight: 3 } });
    await call(t.handler, `/api/backends/${enc(B)}/weight`, { method: "PUT", body: { weight: 3 } });
    await call(t.handler, `/api/backends/${enc(B)}/weight`, { method: "PUT", auth: null });
    await call(t.handler, `/api/backends/${enc(A)}/maintenance`, { method: "POST" });
    await call(t.handler, `/api/backends/${enc(A)}/maintenance`, { method: "DELETE" });
    await call(t.handler, `/api/backends/${enc(C)}`, { method: "DELETE" });
    assert.deepEqual(lines(), [
      `pool default: added ${C} with weight 2; it takes traffic after a health check`,
      `pool default: weight of ${B} changed from 1 to 3`,
      `pool default: ${A} taken out for maintenance`,
      `pool default: ${A} back from maintenance`,
      `pool default: draining ${C}: no new requests; it leaves once 0 in flight finish`,
    ]);
    assert.ok(records.every((r) => r.level === "info" && r.category.join(".") === "lb.admin"));
  } finally {
    resetSync();
  }
});
