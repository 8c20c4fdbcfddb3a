/**
 * The admin listener of a real lb process: probes, Prometheus metrics after
 * traffic, the JSON status page, and the access log in JSON lines.
 */

import assert from "node:assert/strict";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";

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
    assert.match(
      body,
      new RegExp(`lb_requests_total\\{backend="${b}",method="GET",code="2xx"\\} 2`),
    );
    assert.match(
      body,
      new RegExp(`lb_requests_total\\{backend="${b}",method="GET",code="4xx"\\} 1`),
    );
    assert.match(
      body,
      new RegExp(`lb_requests_total\\{backend="${b}",method="GET",code="5xx"\\} 1`),
    );
    assert.match(
      body,
      new RegExp(`lb_requests_total\\{backend="${b}",method="POST",code="2xx"\\} 1`),
    );
    assert.match(body, new RegExp(`lb_request_duration_seconds_count\\{backend="${b}"\\} 5`));
    assert.match(body, new RegExp(`lb_backend_up\\{backend="${b}"\\} 1`));
    assert.match(body, /lb_requests_in_flight 0/);
    assert.match(body, /# TYPE lb_health_transitions_total counter/);
    assert.match(body, /# TYPE lb_retries_total counter/);
    assert.match(body, /# TYPE lb_upstream_errors_total counter/);
    assert.match(body, new RegExp(`lb_health_probes_total\\{backend="${b}",result="pass"\\} \\d+`));
  });

  await t.step("/status", async () => {
    const res = await fetch(`${lb.adminUrl}/status`);
    const s = await res.json();
    assert.equal(s.ready, true);
    assert.equal(s.backends.length, 1);
    const [one] = s.backends;
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
