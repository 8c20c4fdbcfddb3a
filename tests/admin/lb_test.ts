/**
 * The admin listener of a real lb process: probes, Prometheus metrics after
 * traffic, the JSON status page, the access log in JSON lines, and the
 * admin API changing the pool that serves traffic. Flat flags make one pool
 * and one route, both named `default`.
 */

import assert from "node:assert/strict";
import { httpServer } from "../_http.ts";
import { startLb, status, waitFor } from "../_lb.ts";
import { TOKEN } from "./_admin.ts";

async function text(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text() };
}

Deno.test("admin endpoints report traffic, health and status", async (t) => {
  await using backend = httpServer((req) => {
    const code = Number(new URL(req.url).searchParams.get("status") ?? "200");
    return new Response("hi", { status: code });
  });
  await using lb = await startLb([backend.origin], ["--access-log", "--log-format", "json"]);
  for (const path of ["/", "/", "/?status=404", "/?status=503"]) await text(`${lb.url}${path}`);
  await text(`${lb.url}/`, { method: "POST", body: "x" });

  await t.step("/livez, /healthz and /readyz", async () => {
    assert.equal((await text(`${lb.adminUrl}/livez`)).status, 200);
    assert.equal((await text(`${lb.adminUrl}/healthz`)).status, 200);
    assert.equal((await text(`${lb.adminUrl}/readyz`)).status, 200);
    assert.equal((await text(`${lb.adminUrl}/nope`)).status, 404);
  });

  await t.step("/metrics", async () => {
    const { status, body } = await text(`${lb.adminUrl}/metrics`);
    assert.equal(status, 200);
    const b = backend.origin;
    const requests = (method: string, code: string, n: number) =>
      new RegExp(
        `lb_requests_total\\{route="default",pool="default",backend="${b}",` +
          `method="${method}",code="${code}"\\} ${n}`,
      );
    assert.match(body, requests("GET", "2xx", 2));
    assert.match(body, requests("GET", "4xx", 1));
    assert.match(body, requests("GET", "5xx", 1));
    assert.match(body, requests("POST", "2xx", 1));
    assert.match(
      body,
      new RegExp(
        `lb_request_duration_seconds_count\\{route="default",pool="default",backend="${b}"\\} 5`,
      ),
    );
    assert.match(body, new RegExp(`lb_backend_up\\{pool="default",backend="${b}"\\} 1`));
    assert.match(body, /lb_requests_in_flight 0/);
    assert.match(body, /# TYPE lb_health_transitions_total counter/);
    assert.match(body, /# TYPE lb_retries_total counter/);
    assert.match(body, /# TYPE lb_upstream_errors_total counter/);
    assert.match(
      body,
      new RegExp(`lb_health_probes_total\\{pool="default",backend="${b}",result="pass"\\} \\d+`),
    );
  });

  await t.step("/status", async () => {
    const res = await fetch(`${lb.adminUrl}/status`);
    const s = await res.json();
    assert.equal(s.ready, true);
    assert.equal(s.backends.length, 1);
    assert.deepEqual(
      s.pools.map((p: { name: string; healthy: number }) => [p.name, p.healthy]),
      [["default", 1]],
    );
    assert.equal(s.pools[0].backends[0].url, backend.origin);
    assert.deepEqual(s.routes.map((r: { name: string }) => r.name), ["default"]);
    assert.deepEqual(s.routes[0].target, { kind: "pool", pool: "default" });
    const [one] = s.backends;
    assert.equal(one.pool, "default");
    assert.equal(one.url, backend.origin);
    assert.equal(one.state, "up");
    assert.equal(one.requests, 5);
    assert.equal(one.inFlight, 0);
    assert.equal(typeof one.reason, "string");
    assert.ok(!Number.isNaN(Date.parse(one.lastChange)));
    for (const q of ["p50", "p90", "p99"]) assert.equal(typeof one.latencyMs[q], "number");
  });

  await t.step("access log lines in JSON", async () => {
    const line = await lb.proc.waitForLine(/"method":"POST"/, 2000);
    const record = JSON.parse(line.input!);
    assert.equal(record.properties.path, "/");
    assert.equal(record.properties.status, 200);
    assert.equal(record.properties.backend, backend.origin);
    assert.equal(record.properties.bytes, 2);
    assert.equal(typeof record.properties.durationMs, "number");
  });
});

Deno.test({
  name: "through a real lb: an added backend gets traffic, a removed one stops getting it",
  async fn() {
    await using one = httpServer(() => new Response("one"));
    await using two = httpServer(() => new Response("two"));
    await using lb = await startLb([one.origin], ["--admin-token", TOKEN]);
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${lb.adminUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const hit = async () => await (await fetch(lb.url)).text();

    const added = await api("POST", "/api/backends", { url: two.origin });
    assert.equal(added.status, 201);
    assert.equal((await added.json()).url, two.origin);
    await waitFor(async () => (await hit()) === "two", 5000, "traffic on the added backend");
    await lb.proc.waitForLine(/pool default: added http:\/\/127\.0\.0\.1:\d+ with weight 1/);
    const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`lb_backend_up\\{pool="default",backend="${two.origin}"\\} 1`),
    );

    // The pool-addressed path and the single-pool one address the same pool.
    const path = `/api/pools/default/backends/${encodeURIComponent(one.origin)}`;
    const removed = await api("DELETE", path);
    assert.equal(removed.status, 202);
    assert.deepEqual(await removed.json(), { url: one.origin, draining: true });
    await waitFor(
      async () => !(await status(lb)).backends.some((b) => b.url === one.origin),
      5000,
      "the removed backend to leave",
    );
    for (let i = 0; i < 10; i++) assert.equal(await hit(), "two");

    const denied = await fetch(`${lb.adminUrl}/api/backends`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: one.origin }),
    });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
  },
});
