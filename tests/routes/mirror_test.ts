/**
 * Request mirroring through a whole lb: a mirror pool that is slow (answers
 * after 2 s) or down (nothing listening) changes neither the client's
 * answer nor its latency; copies carry the primary's method, path and body;
 * bodies over `retry-buffer` are not mirrored (`skipped_body`);
 * `mirror-max-in-flight` caps the copies (`skipped_busy`); and, as a
 * property, an answer with a mirror equals the answer without one. One
 * route with `mirror` and one without, on the same lb and primary pool,
 * are told apart by a header, so each comparison is made in the same test
 * on the same backend. The last test runs the real `lb`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { httpServer } from "../_http.ts";
import { startLb, waitFor } from "../_lb.ts";
import {
  type Answer,
  answer,
  backend,
  deadOrigin,
  inProcess,
  type InProcessLb,
  median,
  metric,
  type Send,
  series,
} from "./_routes.ts";

/** The slow mirror's delay: far above any answer the client should wait for. */
const SLOW_MS = 2000;
/** A client answer this late would mean the mirror held it up. */
const LATE_MS = 1000;

/** Routes: `mirrored` (header `x-mirror: 1`, copies to `shadow`) and `plain`, both to `main`. */
function mirrorConfig(main: string, shadow: string, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    pools: { main: { backends: [main] }, shadow: { backends: [shadow] } },
    routes: [
      { name: "mirrored", match: { headers: { "x-mirror": "1" } }, pool: "main", mirror: "shadow" },
      { name: "plain", match: {}, pool: "main" },
    ],
  };
}

/** Sends the same request down both routes. */
async function both(t: InProcessLb, url: string, init: Send = {}): Promise<[Answer, Answer]> {
  const plain = await t.send(url, init);
  const mirrored = await t.send(url, { ...init, headers: { ...init.headers, "x-mirror": "1" } });
  return [plain, mirrored];
}

function mirrorCount(text: string, result: string, route = "mirrored", pool = "shadow"): number {
  return metric(text, "lb_mirror_requests_total", { route, pool, result });
}

/** Asserts the client's view of two answers is the same (status, body, content type). */
function assertSameAnswer(plain: Answer, mirrored: Answer, what: string): void {
  assert.equal(mirrored.status, plain.status, what);
  assert.equal(mirrored.body, plain.body, what);
  assert.equal(mirrored.headers.get("content-type"), plain.headers.get("content-type"), what);
  assert.equal(mirrored.headers.get("x-backend"), plain.headers.get("x-backend"), what);
}

/** Runs `n` request pairs; returns their latencies, each answer checked equal. */
async function compare(
  t: InProcessLb,
  n: number,
): Promise<{ plain: number[]; mirrored: number[] }> {
  const plain: number[] = [];
  const mirrored: number[] = [];
  for (let i = 0; i < n; i++) {
    const [p, m] = await both(t, `http://example.com/item/${i}?q=${i}`);
    assert.equal(p.status, 200, p.body);
    assert.equal(p.echo().name, "main");
    assertSameAnswer(p, m, `request ${i}`);
    plain.push(p.ms);
    mirrored.push(m.ms);
  }
  return { plain, mirrored };
}

function assertNotDelayed(ms: { plain: number[]; mirrored: number[] }): void {
  const text = `plain ${ms.plain.map(Math.round)} ms, mirrored ${ms.mirrored.map(Math.round)} ms`;
  assert.ok(Math.max(...ms.mirrored) < LATE_MS, text);
  // The same requests on the same backend: a mirror must not add to the typical answer.
  assert.ok(median(ms.mirrored) <= median(ms.plain) + 50, text);
}

Deno.test("a slow mirror pool neither changes nor delays the client's answer", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow", { delayMs: SLOW_MS });
  await using t = inProcess(mirrorConfig(main.origin, shadow.origin));
  const started = Date.now();
  const ms = await compare(t, 10);
  assertNotDelayed(ms);
  // Every copy reached the shadow, and the client had all its answers long before it replied.
  await waitFor(() => shadow.seen.length === 10, 2000, "10 copies at the shadow");
  assert.ok(Date.now() - started < SLOW_MS, "the answers waited for the slow mirror");
  assert.equal(mirrorCount(await t.metrics(), "ok"), 0, "a mirror answer came back early");
  shadow.release();
  await waitFor(async () => mirrorCount(await t.metrics(), "ok") === 10, 3000, "10 ok copies");
  assert.equal(main.seen.length, 20);
});

Deno.test("a mirror pool with nothing listening changes nothing for the client", async () => {
  await using main = backend("main");
  await using t = inProcess(mirrorConfig(main.origin, deadOrigin()));
  const ms = await compare(t, 10);
  assertNotDelayed(ms);
  // Each copy failed to connect, or found the pool down by then: counted, never answered.
  const counted = async () => {
    const text = await t.metrics();
    return mirrorCount(text, "error") + mirrorCount(text, "no_backend");
  };
  await waitFor(async () => (await counted()) === 10, 3000, "10 failed copies");
  const text = await t.metrics();
  assert.equal(mirrorCount(text, "ok") + mirrorCount(text, "5xx"), 0);
  // The primary pool is untouched by its mirror's failures.
  const status = await t.status();
  assert.equal(status.pools.find((p) => p.name === "main")?.healthy, 1);
  assert.ok(status.ready);
});

Deno.test("mirror copies carry the method, path and body the primary got", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow");
  await using t = inProcess(mirrorConfig(main.origin, shadow.origin));
  const requests: [string, Send][] = [
    ["/", {}],
    ["/a/b?x=1&y=two", {}],
    ["/orders", { method: "POST", body: '{"id":7}' }],
    ["/orders/7", { method: "PUT", body: "replaced" }],
    ["/orders/7?soft=1", { method: "DELETE" }],
    ["/orders/7", { method: "PATCH", body: new Uint8Array([0, 1, 2, 255]) }],
    ["/x", { method: "OPTIONS" }],
    ["/head", { method: "HEAD" }],
  ];
  for (const [path, init] of requests) {
    const res = await t.send(`http://example.com${path}`, {
      ...init,
      headers: { "x-mirror": "1" },
    });
    assert.equal(res.status, 200, `${init.method ?? "GET"} ${path}: ${res.body}`);
  }
  await waitFor(() => shadow.seen.length === requests.length, 3000, "every copy at the shadow");
  // Copies may arrive in any order; compare as sets of (method, path, body).
  const key = (s: { method: string; path: string; body: string }) =>
    JSON.stringify([s.method, s.path, s.body]);
  assert.deepEqual(shadow.seen.map(key).sort(), main.seen.map(key).sort());
  assert.deepEqual(
    main.seen.map((s) => s.method),
    requests.map(([, i]) => i.method ?? "GET"),
  );
  await waitFor(async () => mirrorCount(await t.metrics(), "ok") === requests.length, 3000, "ok");
});

Deno.test("a body over retry-buffer goes to the primary whole but is not mirrored (skipped_body)", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow");
  await using t = inProcess(mirrorConfig(main.origin, shadow.origin, { "retry-buffer": "1KiB" }));
  const fits = "a".repeat(1024);
  const over = "b".repeat(1025);
  const big = "c".repeat(64 * 1024);
  for (const body of [fits, over, big]) {
    const [plain, mirrored] = await both(t, "http://example.com/upload", { method: "POST", body });
    assert.equal(mirrored.status, 200, mirrored.body);
    assert.equal(mirrored.echo().body.length, body.length);
    assertSameAnswer(plain, mirrored, `${body.length} bytes`);
  }
  await waitFor(() => shadow.seen.length >= 1, 3000, "the copy that fits");
  const text = await t.metrics();
  assert.equal(
    mirrorCount(text, "skipped_body"),
    2,
    JSON.stringify(series(text, "lb_mirror_requests_total")),
  );
  await waitFor(async () => mirrorCount(await t.metrics(), "ok") === 1, 3000, "one ok copy");
  assert.deepEqual(shadow.seen.map((s) => s.body.length), [1024]);
  assert.equal(main.seen.length, 6);
});

Deno.test("a pool's own retry-buffer overrides the top-level one for what its routes mirror", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow");
  const config = mirrorConfig(main.origin, shadow.origin, { "retry-buffer": "1KiB" });
  await using t = inProcess({
    ...config,
    pools: { ...config.pools, main: { backends: [main.origin], "retry-buffer": "4KiB" } },
  });
  const res = await t.send("http://example.com/upload", {
    method: "POST",
    body: "d".repeat(2048),
    headers: { "x-mirror": "1" },
  });
  assert.equal(res.status, 200, res.body);
  await waitFor(async () => mirrorCount(await t.metrics(), "ok") === 1, 3000, "one ok copy");
  assert.deepEqual(shadow.seen.map((s) => s.body.length), [2048]);
  assert.equal(mirrorCount(await t.metrics(), "skipped_body"), 0);
});

Deno.test("a mirror that answers 5xx is counted as 5xx and the client never sees it", async () => {
  await using main = backend("main");
  await using failing = httpServer(() => new Response("mirror broke", { status: 503 }));
  await using t = inProcess(mirrorConfig(main.origin, failing.origin));
  const ms = await compare(t, 5);
  assertNotDelayed(ms);
  await waitFor(async () => mirrorCount(await t.metrics(), "5xx") === 5, 3000, "5 5xx copies");
  const text = await t.metrics();
  // Only the primary's answers are counted as the client's.
  assert.equal(metric(text, "lb_requests_total", { code: "5xx" }), 0);
  assert.equal(metric(text, "lb_requests_total", { route: "mirrored", code: "2xx" }), 5);
});

Deno.test("mirror-max-in-flight caps the copies: the rest are skipped_busy, and no client waits", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow", { delayMs: SLOW_MS });
  await using t = inProcess(
    mirrorConfig(main.origin, shadow.origin, { "mirror-max-in-flight": 2 }),
  );
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) => t.send(`http://example.com/burst/${i}`, { headers: { "x-mirror": "1" } }),
    ),
  );
  const elapsed = performance.now() - started;
  for (const [i, res] of answers.entries()) {
    assert.equal(res.status, 200, res.body);
    assert.deepEqual([res.echo().name, res.echo().path], ["main", `/burst/${i}`]);
  }
  assert.ok(elapsed < LATE_MS, `10 concurrent answers took ${Math.round(elapsed)} ms`);
  // Two copies hold both slots for the 2 s the shadow takes; the other eight are skipped.
  await waitFor(() => shadow.seen.length === 2, 2000, "2 copies at the shadow");
  const text = await t.metrics();
  const all = JSON.stringify(series(text, "lb_mirror_requests_total"));
  assert.equal(mirrorCount(text, "skipped_busy"), 8, all);
  assert.equal(shadow.seen.length, 2);
  shadow.release();
  await waitFor(async () => mirrorCount(await t.metrics(), "ok") === 2, 3000, "2 ok copies");
});

Deno.test("property: for any small request, the answer with a mirror equals the answer without", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow");
  await using t = inProcess(mirrorConfig(main.origin, shadow.origin));
  const segment = fc.stringMatching(/^[a-zA-Z0-9._~-]{1,8}$/);
  const request = fc.record({
    method: fc.constantFrom("GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"),
    segments: fc.array(segment, { maxLength: 4 }),
    query: fc.option(fc.dictionary(segment, segment, { maxKeys: 3 }), { nil: undefined }),
    body: fc.uint8Array({ maxLength: 256 }),
  });
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(request, async ({ method, segments, query, body }) => {
      const qs = query === undefined ? "" : `?${new URLSearchParams(query)}`;
      const path = `/${segments.join("/")}${qs}`;
      const withBody = ["POST", "PUT", "PATCH"].includes(method);
      const init: Send = withBody ? { method, body } : { method };
      const [plain, mirrored] = await both(t, `http://example.com${path}`, init);
      sent++;
      assert.equal(plain.status, 200, plain.body);
      assertSameAnswer(plain, mirrored, `${method} ${path}`);
    }),
    { numRuns: 40 },
  );
  // And the mirror did get a copy of each.
  await waitFor(() => shadow.seen.length === sent, 3000, `${sent} copies at the shadow`);
});

Deno.test("the real lb mirrors to a slow pool without delaying the client, and never a partial body", async () => {
  await using main = backend("main");
  await using shadow = backend("shadow", { delayMs: SLOW_MS });
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/lb.json`;
    await Deno.writeTextFile(path, JSON.stringify(mirrorConfig(main.origin, shadow.origin)));
    await using lb = await startLb([], ["--config", path]);
    const started = performance.now();
    const res = await answer(
      await fetch(`${lb.url}/orders?id=1`, {
        method: "POST",
        headers: { "x-mirror": "1" },
        body: "order 1",
      }),
      started,
    );
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.echo(), {
      name: "main",
      method: "POST",
      path: "/orders?id=1",
      body: "order 1",
    });
    assert.ok(res.ms < LATE_MS, `${Math.round(res.ms)} ms`);
    await waitFor(() => shadow.seen.length === 1, 2000, "the copy at the shadow");
    const [copy] = shadow.seen;
    assert.deepEqual([copy.method, copy.path, copy.body], ["POST", "/orders?id=1", "order 1"]);
    shadow.release();
    const metrics = async () => await (await fetch(`${lb.adminUrl}/metrics`)).text();
    await waitFor(async () => mirrorCount(await metrics(), "ok") === 1, 3000, "the ok copy");

    // A chunked body (no Content-Length): the primary gets it whole; a copy,
    // if the lb sends one, must be whole too, never the primary's leftovers.
    const chunks = ["part 1, ", "part 2"];
    const stream = ReadableStream.from(chunks.map((c) => new TextEncoder().encode(c)));
    const chunked = await answer(
      await fetch(`${lb.url}/stream`, {
        method: "PUT",
        headers: { "x-mirror": "1" },
        body: stream,
      }),
      performance.now(),
    );
    assert.equal(chunked.status, 200, chunked.body);
    assert.equal(chunked.echo().body, chunks.join(""));
    await waitFor(
      async () => {
        const text = await metrics();
        return mirrorCount(text, "ok") + mirrorCount(text, "skipped_body") === 2;
      },
      3000,
      "the chunked request's copy counted",
    );
    for (const copy of shadow.seen.slice(1)) assert.equal(copy.body, chunks.join(""));
  } finally {
    shadow.release();
    await Deno.remove(dir, { recursive: true });
  }
});
