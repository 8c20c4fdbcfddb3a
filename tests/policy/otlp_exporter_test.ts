/**
 * The OTLP exporter against a real receiver on loopback (`tests/_otlp.ts`,
 * which decodes the OTLP JSON the SDK's encoder wrote): full batches go at
 * once and partial ones on flush, a full queue drops and counts, refusals,
 * partial successes, timeouts and a missing collector count as failed,
 * and close flushes what is left.
 */

import assert from "node:assert/strict";
import type { OtlpExportConfig } from "../../lib/config/policies/types.ts";
import { log } from "../../lib/core/logging.ts";
import { createLbMetrics, type LbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { OtlpExporter } from "../../lib/policy/otlp_exporter.ts";
import { SPAN_KIND, SpanRecord } from "../../lib/policy/trace_span.ts";
import { startOtlpReceiver } from "../_otlp.ts";
import { samples } from "../routes/_routes.ts";

function settings(url: string, more: Partial<OtlpExportConfig> = {}): OtlpExportConfig {
  return {
    endpoint: url,
    url: `${url}/v1/traces`,
    headers: [["authorization", "Bearer t0ken"]],
    serviceName: "lb-test",
    queueSize: 100,
    batchSize: 3,
    intervalMs: 3_600_000,
    timeoutMs: 2000,
    ...more,
  };
}

async function counts(metrics: LbMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of samples(await metrics.registry.render())) {
    if (s.name === "lb_trace_spans_total") out[s.labels.result] = s.value;
  }
  return out;
}

let next = 1;
/** An ended span with a recognisable id. */
function span(exporter: OtlpExporter, parent?: SpanRecord): SpanRecord {
  const id = (next++).toString(16).padStart(16, "0");
  const s = new SpanRecord(
    parent ? "GET" : "GET default",
    parent ? SPAN_KIND.client : SPAN_KIND.server,
    { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: id, traceFlags: 1 },
    parent?.spanContext(),
    { "http.request.method": "GET", "lb.attempt": 1, "ok": true, "ratio": 0.5 },
    1_700_000_000_123.5,
    exporter.origin,
  );
  s.end(1_700_000_000_125.25, parent ? "answered 503" : undefined);
  return s;
}

Deno.test("exporter: a full batch goes at once, the rest on flush; the receiver decodes ids, links, times and attributes", async () => {
  await using receiver = startOtlpReceiver();
  const metrics = createLbMetrics();
  const exporter = new OtlpExporter(settings(receiver.url), { metrics, log: log("test") });
  try {
    const server = span(exporter);
    const child = span(exporter, server);
    exporter.add(child);
    exporter.add(server);
    assert.equal(receiver.requests, 0);
    exporter.add(span(exporter));
    await receiver.waitFor((s) => s.length === 3);
    assert.equal(receiver.requests, 1);
    exporter.add(span(exporter));
    exporter.add(span(exporter));
    assert.equal(exporter.queued, 2);
    await exporter.flush();
    assert.equal(receiver.spans.length, 5);
    assert.equal(receiver.requests, 2);
    const [c, s] = receiver.spans;
    assert.equal(c.parentSpanId, s.spanId);
    assert.equal(c.kind, "client");
    assert.equal(s.kind, "server");
    assert.equal(s.parentSpanId, undefined);
    assert.equal(c.status.code, "error");
    assert.equal(c.status.message, "answered 503");
    assert.equal(s.startNs, 1_700_000_000_123_500_000n);
    assert.equal(s.endNs, 1_700_000_000_125_250_000n);
    assert.deepEqual(s.attributes, {
      "http.request.method": "GET",
      "lb.attempt": 1,
      ok: true,
      ratio: 0.5,
    });
    assert.equal(s.resource["service.name"], "lb-test");
    assert.equal(typeof s.resource["service.version"], "string");
    assert.equal(receiver.lastHeaders?.get("authorization"), "Bearer t0ken");
    assert.equal(receiver.lastHeaders?.get("content-type"), "application/json");
    assert.deepEqual(await counts(metrics), { exported: 5, failed: 0, dropped: 0 });
  } finally {
    await exporter.close();
  }
});

Deno.test("exporter: spans past the queue's size are dropped and counted", async () => {
  await using receiver = startOtlpReceiver();
  const metrics = createLbMetrics();
  const exporter = new OtlpExporter(settings(receiver.url, { queueSize: 3, batchSize: 10 }), {
    metrics,
    log: log("test"),
  });
  try {
    for (let i = 0; i < 5; i++) exporter.add(span(exporter));
    assert.equal(exporter.queued, 3);
    await exporter.flush();
    assert.equal(receiver.spans.length, 3);
    assert.deepEqual(await counts(metrics), { exported: 3, failed: 0, dropped: 2 });
  } finally {
    await exporter.close();
  }
});

Deno.test("exporter: refused, partly refused and unanswered exports count as failed; the timer sends a partial batch", async () => {
  await using receiver = startOtlpReceiver();
  const metrics = createLbMetrics();
  const exporter = new OtlpExporter(settings(receiver.url, { intervalMs: 30 }), {
    metrics,
    log: log("test"),
  });
  try {
    receiver.status = 500;
    exporter.add(span(exporter));
    exporter.add(span(exporter));
    await exporter.flush();
    assert.deepEqual(await counts(metrics), { exported: 0, failed: 2, dropped: 0 });
    receiver.status = 200;
    receiver.rejected = 1;
    for (let i = 0; i < 3; i++) exporter.add(span(exporter));
    await exporter.flush();
    assert.deepEqual(await counts(metrics), { exported: 2, failed: 3, dropped: 0 });
    receiver.rejected = 0;
    // Below a batch, the interval sends it.
    exporter.add(span(exporter));
    await receiver.waitFor((s) => s.length === 4, 3000);
    await exporter.flush();
    assert.deepEqual(await counts(metrics), { exported: 3, failed: 3, dropped: 0 });
  } finally {
    await exporter.close();
  }
});

Deno.test("exporter: a collector that never answers times out; one that is gone fails at once", async () => {
  // Accepts connections and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const metrics = createLbMetrics();
  const url = `http://127.0.0.1:${listener.addr.port}`;
  const exporter = new OtlpExporter(settings(url, { timeoutMs: 200 }), {
    metrics,
    log: log("test"),
  });
  try {
    const started = performance.now();
    exporter.add(span(exporter));
    await exporter.flush();
    assert.ok(performance.now() - started < 2000);
    assert.deepEqual(await counts(metrics), { exported: 0, failed: 1, dropped: 0 });
  } finally {
    await exporter.close();
    listener.close();
    await accepting;
    for (const c of held) c.close();
  }
  const gone = new OtlpExporter(settings(url), { metrics, log: log("test") });
  try {
    gone.add(span(gone));
    await gone.flush();
    assert.deepEqual(await counts(metrics), { exported: 0, failed: 2, dropped: 0 });
  } finally {
    await gone.close();
  }
});

Deno.test("exporter: close sends what is queued and drops what comes after; with the collector down it gives up after one try", async () => {
  await using receiver = startOtlpReceiver();
  const metrics = createLbMetrics();
  const exporter = new OtlpExporter(settings(receiver.url, { batchSize: 2 }), {
    metrics,
    log: log("test"),
  });
  exporter.add(span(exporter));
  await exporter.close();
  assert.equal(receiver.spans.length, 1);
  exporter.add(span(exporter));
  assert.deepEqual(await counts(metrics), { exported: 1, failed: 0, dropped: 1 });

  receiver.status = 503;
  const down = new OtlpExporter(settings(receiver.url, { batchSize: 2, queueSize: 10 }), {
    metrics,
    log: log("test"),
  });
  // Five spans: two batches go as they fill (refused), one waits.
  for (let i = 0; i < 5; i++) down.add(span(down));
  const before = receiver.requests;
  await down.close();
  // Full batches went (refused) as they filled; the final flush tried the last span once.
  assert.deepEqual(await counts(metrics), { exported: 1, failed: 5, dropped: 1 });
  assert.equal(receiver.requests - before, 3);
});
