/**
 * Summing several threads' metrics (`mergeFamilies`, `sumStats`): counters
 * and histograms add up series by series, families only the main thread
 * keeps come from it alone, and backend counters and latency percentiles
 * are over every thread.
 */

import assert from "node:assert/strict";
import { createLbMetrics } from "../lib/metrics/lb_metrics.ts";
import { mergeFamilies, Registry, renderFamilies } from "../lib/metrics/registry.ts";
import { Pool } from "../lib/pool/pool.ts";
import { singleThreadReport, sumStats, threadStats } from "../lib/server/thread_stats.ts";

function registry(requests: number, observations: number[]) {
  const r = new Registry();
  r.counter("t_requests_total", "Requests.", ["code"]).labels("2xx").inc(requests);
  const h = r.histogram("t_seconds", "Durations.", [], [0.1, 1]).labels();
  for (const v of observations) h.observe(v);
  r.gauge("t_open", "Open now.").labels().set(requests);
  return r;
}

Deno.test("mergeFamilies: counters, gauges and histograms add up label set by label set", () => {
  const a = registry(3, [0.05, 0.5]);
  const b = registry(4, [2]);
  b.counter("t_only_b_total", "Only in b.").labels().inc(1);
  const merged = renderFamilies(mergeFamilies([a.snapshot(), b.snapshot()]));
  assert.match(merged, /^t_requests_total\{code="2xx"\} 7$/m);
  assert.match(merged, /^t_open 7$/m);
  assert.match(merged, /^t_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(merged, /^t_seconds_bucket\{le="1"\} 2$/m);
  assert.match(merged, /^t_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(merged, /^t_seconds_count 3$/m);
  assert.match(merged, /^t_seconds_sum 2.55$/m);
  assert.match(merged, /^t_only_b_total 1$/m);
});

Deno.test("mergeFamilies: one registry renders as it always did", () => {
  const a = registry(2, [0.2]);
  assert.equal(renderFamilies(mergeFamilies([a.snapshot()])), a.render());
});

Deno.test("sumStats: request counters are summed, health gauges come from the main thread only", () => {
  const main = createLbMetrics();
  main.backendUp.labels("default", "http://b:1").set(1);
  main.configLastReloadOk.set(1);
  const workers = [createLbMetrics(), createLbMetrics()];
  workers.forEach((w, i) => {
    w.requests.labels("default", "default", "http://b:1", "GET", "2xx").inc(10 + i);
    // A worker's copy also sets these; they must not be counted once per worker.
    w.backendUp.labels("default", "http://b:1").set(1);
  });
  const report = sumStats(
    threadStats([], main),
    workers.map((w) => threadStats([], w)),
    [],
  );
  assert.match(
    report.metrics,
    /^lb_requests_total\{route="default",pool="default",backend="http:\/\/b:1",method="GET",code="2xx"\} 21$/m,
  );
  assert.match(report.metrics, /^lb_backend_up\{pool="default",backend="http:\/\/b:1"\} 1$/m);
  assert.match(report.metrics, /^lb_config_last_reload_successful 1$/m);
});

Deno.test("sumStats: a backend's counters and latency percentiles are over every thread", () => {
  const health = { intervalMs: 1000, timeoutMs: 100, rise: 1, fall: 1, downIntervalMs: 1000 };
  const spec = { origin: "http://b:1", hostname: "b", port: 1, weight: 1 };
  const make = () => new Pool([spec], health, 0, { name: "p", ewmaDecayMs: 1000, slowStartMs: 0 });
  const [main, w1, w2] = [make(), make(), make()];
  try {
    const serve = (pool: Pool, ms: number[]) => {
      const b = pool.backends[0];
      for (const m of ms) {
        b.begin();
        b.answered(m, performance.now());
        b.settle();
      }
    };
    serve(w1, [1, 2, 3, 4]);
    serve(w2, [100]);
    w2.backends[0].begin(); // one still in flight
    const metrics = createLbMetrics();
    const report = sumStats(
      threadStats([main], metrics),
      [threadStats([w1], metrics), threadStats([w2], metrics)],
      [],
    );
    const t = report.traffic("p", main.backends[0]);
    assert.equal(t.requests, 6);
    assert.equal(t.inFlight, 1);
    assert.equal(t.latencyMs.p50, 3);
    assert.equal(t.latencyMs.p99, 100);
    w2.backends[0].settle();
  } finally {
    [main, w1, w2].forEach((p) => p.close());
  }
});

Deno.test("singleThreadReport: the main thread is worker 0 with its request count", () => {
  const metrics = createLbMetrics();
  metrics.requests.labels("r", "p", "b", "GET", "2xx").inc(5);
  metrics.requests.labels("r", "p", "b", "GET", "5xx").inc(2);
  const report = singleThreadReport([], metrics, Date.parse("2026-01-01T00:00:00Z"));
  assert.equal(report.workers.length, 1);
  const [w] = report.workers;
  assert.equal(w.id, 0);
  assert.equal(w.requests, 7);
  assert.equal(w.state, "running");
  assert.equal(w.startedAt, "2026-01-01T00:00:00.000Z");
});
