/**
 * The dashboard's pure parts on a fake clock: the event log ring, request
 * and error rates from growing counters, the history window, and how a
 * `/status` report becomes the dashboard's state and a history point.
 */

import assert from "node:assert/strict";
import { EventLog } from "../../lib/admin/event_log.ts";
import { History, type HistoryPoint } from "../../lib/admin/live_history.ts";
import { type Counters, rate, RateMeter } from "../../lib/admin/live_rates.ts";
import {
  backendKey,
  countersOf,
  dashboardState,
  historyPoint,
} from "../../lib/admin/dashboard_state.ts";
import type { StatusReport } from "../../lib/admin/status.ts";

Deno.test("event log: numbered, timed by the injected clock, oldest dropped past capacity", () => {
  let now = 1_000;
  const log = new EventLog({ capacity: 3, now: () => now });
  assert.deepEqual(log.since(), []);
  assert.equal(log.lastSeq, 0);
  for (const kind of ["down", "up", "ejected", "ejection-ended", "draining"] as const) {
    log.add({ kind, pool: "api", backend: "http://a", detail: kind });
    now += 10;
  }
  assert.equal(log.lastSeq, 5);
  assert.deepEqual(log.since().map((e) => [e.seq, e.at, e.kind]), [
    [3, 1020, "ejected"],
    [4, 1030, "ejection-ended"],
    [5, 1040, "draining"],
  ]);
  assert.deepEqual(log.since(4).map((e) => e.seq), [5]);
  assert.deepEqual(log.since(1).map((e) => e.seq), [3, 4, 5], "what fell out is gone");
  assert.deepEqual(log.since(5), []);
});

Deno.test("event log: a long detail is cut; a bad capacity is refused", () => {
  const log = new EventLog({ now: () => 0 });
  const e = log.add({ kind: "reload-failed", detail: "x".repeat(10_000) });
  assert.equal(e.detail.length, 300);
  assert.ok(e.detail.endsWith("…"));
  assert.throws(() => new EventLog({ capacity: 0 }), /positive integer \(got 0\)/);
});

Deno.test("event log: a full ring over many wraps keeps exactly the last ones in order", () => {
  const log = new EventLog({ capacity: 100, now: () => 0 });
  for (let i = 0; i < 1234; i++) log.add({ kind: "up", detail: String(i) });
  const kept = log.since();
  assert.equal(kept.length, 100);
  assert.equal(kept[0].detail, "1134");
  assert.equal(kept[99].detail, "1233");
});

const counters = (entries: Record<string, [number, number]>): Map<string, Counters> =>
  new Map(Object.entries(entries).map(([k, [requests, failures]]) => [k, { requests, failures }]));

Deno.test("rates: the first sample is zeros, then deltas over the interval", () => {
  const meter = new RateMeter();
  const first = meter.observe(0, counters({ a: [100, 5], b: [50, 0] }));
  assert.equal(first.intervalMs, 0);
  assert.deepEqual(first.total, { requestsPerSecond: 0, failuresPerSecond: 0, errorRate: null });
  const next = meter.observe(2000, counters({ a: [120, 7], b: [50, 0] }));
  assert.equal(next.intervalMs, 2000);
  assert.deepEqual(next.byKey.get("a"), {
    requestsPerSecond: 10,
    failuresPerSecond: 1,
    errorRate: 0.1,
  });
  assert.deepEqual(next.byKey.get("b"), {
    requestsPerSecond: 0,
    failuresPerSecond: 0,
    errorRate: null,
  });
  assert.deepEqual(next.total, { requestsPerSecond: 10, failuresPerSecond: 1, errorRate: 0.1 });
});

Deno.test("rates: a new backend and one that came back fresh count from zero", () => {
  const meter = new RateMeter();
  meter.observe(0, counters({ a: [100, 0] }));
  const r = meter.observe(1000, counters({ a: [3, 1], c: [4, 0] }));
  assert.equal(r.byKey.get("a")!.requestsPerSecond, 3, "counter went down: a fresh member");
  assert.equal(r.byKey.get("a")!.errorRate, 1 / 3);
  assert.equal(r.byKey.get("c")!.requestsPerSecond, 4);
  assert.equal(r.total.requestsPerSecond, 7);
});

Deno.test("rates: no time passed gives zeros; the error rate never exceeds 1", () => {
  assert.deepEqual(rate(10, 2, 0), { requestsPerSecond: 0, failuresPerSecond: 0, errorRate: null });
  assert.equal(rate(1, 5, 1000).errorRate, 1);
});

const point = (at: number, rps = 1): HistoryPoint => ({
  at,
  requestsPerSecond: rps,
  errorsPerSecond: 0,
  p50Ms: null,
  p99Ms: null,
});

Deno.test("history: keeps the window, drops older points, and caps the count", () => {
  const h = new History({ windowMs: 10_000, capacity: 5 });
  assert.equal(h.latest, undefined);
  for (let t = 0; t <= 12_000; t += 1000) h.add(point(t));
  assert.deepEqual(h.points(12_000).map((p) => p.at), [8000, 9000, 10_000, 11_000, 12_000]);
  assert.equal(h.latest!.at, 12_000);
  const slow = new History({ windowMs: 10_000, capacity: 100 });
  for (let t = 0; t <= 30_000; t += 5000) slow.add(point(t));
  assert.deepEqual(slow.points(30_000).map((p) => p.at), [20_000, 25_000, 30_000]);
  assert.deepEqual(slow.points(38_000).map((p) => p.at), [30_000], "read later: older ones left");
});

Deno.test("history: 5 minutes of 1 s samples for an hour stays at most 301 points", () => {
  const h = new History();
  for (let t = 0; t <= 3_600_000; t += 1000) h.add(point(t));
  assert.equal(h.points(3_600_000).length, 301);
});

function backend(
  url: string,
  requests: number,
  failures: number,
  p50: number | null,
  p99: number | null,
) {
  return {
    url,
    state: "up" as const,
    lastChange: "2026-01-01T00:00:00.000Z",
    reason: "starting",
    weight: 1,
    metadata: {},
    effectiveWeight: 1,
    inFlight: 0,
    requests,
    failures,
    ejections: 0,
    latencyMs: { p50, p90: p99, p99, ewma: 0 },
  };
}

function report(aRequests: number, bFailures: number): StatusReport {
  const pools = [
    {
      name: "api",
      strategy: "round-robin",
      healthy: 1,
      backends: [backend("http://a", aRequests, 0, 2, 9)],
    },
    {
      name: "web",
      strategy: "random",
      healthy: 1,
      backends: [backend("http://b", 10, bFailures, 5, 7)],
    },
  ];
  return {
    version: "test",
    uptimeSeconds: 3,
    ready: true,
    shuttingDown: false,
    memoryMiB: { heapUsed: 12.5 },
    pools,
    routes: [],
    backends: [],
    workers: [{
      id: 0,
      state: "running",
      requests: 0,
      restarts: 0,
      startedAt: "2026-01-01T00:00:00.000Z",
    }],
  };
}

Deno.test("state: each backend gets its rates; history takes the slowest backend's p50 and p99", () => {
  const meter = new RateMeter();
  meter.observe(0, countersOf(report(100, 0)));
  const second = report(150, 5);
  const rates = meter.observe(500, countersOf(second));
  const state = dashboardState(second, rates, 500, true);
  assert.equal(state.heapUsedMiB, 12.5);
  assert.equal(state.actions, true);
  assert.equal(state.intervalMs, 500);
  assert.deepEqual(
    state.pools.map((p) => p.backends.map((b) => [b.url, b.requestsPerSecond, b.errorRate])),
    [[["http://a", 100, 0]], [["http://b", 0, null]]],
    "b had failures but no requests in the interval: no rate",
  );
  assert.deepEqual(historyPoint(second, rates, 500), {
    at: 500,
    requestsPerSecond: 100,
    errorsPerSecond: 10,
    p50Ms: 5,
    p99Ms: 9,
  });
  assert.equal(backendKey("api", "http://a"), "api\u0000http://a");
});
