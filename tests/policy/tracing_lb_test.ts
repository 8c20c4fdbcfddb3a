/**
 * Tracing through a real lb process, real loopback backends that report
 * the trace fields they received, and a real OTLP/HTTP receiver
 * (`tests/_otlp.ts`) that decodes every export: parent/child links (the
 * server span under the client's span, attempts under the server span, the
 * backend under its attempt), attributes, sampling decisions, retries as
 * separate attempt spans, the flush at shutdown, and a collector that
 * fails without the lb noticing.
 */

import assert from "node:assert/strict";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../_otlp.ts";
import { type LbProcess, startLb, waitFor } from "../_lb.ts";
import { samples } from "../routes/_routes.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

/** A backend answering `status()` and remembering each request's trace fields, by path. */
function traceBackend(status: () => number = () => 200) {
  const seen: { path: string; traceparent: string | null; tracestate: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/") return new Response("ok"); // health checks
    const fields = {
      path: url.pathname + url.search,
      traceparent: req.headers.get("traceparent"),
      tracestate: req.headers.get("tracestate"),
    };
    seen.push(fields);
    return Response.json(fields, { status: status() });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Writes `config` to a temporary file for `--config`; removed on dispose. */
async function configFile(config: unknown) {
  const dir = await Deno.makeTempDir({ prefix: "lb-tracing-" });
  const path = `${dir}/lb.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function get(lb: LbProcess, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${lb.url}${path}`, { headers });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body };
}

const byTrace = (spans: readonly ReceivedSpan[], traceId: string) =>
  spans.filter((s) => s.traceId === traceId);

async function spanCounts(lb: LbProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const s of samples(text)) {
    if (s.name === "lb_trace_spans_total") out[s.labels.result] = s.value;
  }
  return out;
}

function tracingLb(be: string[], receiver: OtlpReceiver, config: string, more: string[] = []) {
  return startLb(be, [
    "--config",
    config,
    "--otlp-endpoint",
    receiver.url,
    "--otlp-interval",
    "50ms",
    ...more,
  ]);
}

Deno.test("tracing: the server span continues the client's trace, the attempt is its child, and the backend sees the attempt as its parent", async () => {
  await using receiver = startOtlpReceiver();
  await using be = traceBackend();
  await using file = await configFile({ policies: { "request-id": true, tracing: true } });
  await using lb = await tracingLb([be.origin], receiver, file.path, [
    "--otlp-service-name",
    "edge",
    "--otlp-headers",
    "x-api-key=s%3Dcret",
  ]);
  const res = await get(lb, "/hello/world?token=secret", {
    traceparent: `00-${TRACE}-${PARENT}-01`,
    tracestate: "vendor=abc,other=1",
    "user-agent": "tracing-test/1",
  });
  assert.equal(res.status, 200);
  await receiver.waitFor((spans) => byTrace(spans, TRACE).length === 2);
  const spans = byTrace(receiver.spans, TRACE);
  const server = spans.find((s) => s.kind === "server")!;
  const attempt = spans.find((s) => s.kind === "client")!;
  assert.ok(server && attempt, Deno.inspect(spans));

  // The links: client span → server span → attempt span → the backend.
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(attempt.parentSpanId, server.spanId);
  assert.notEqual(attempt.spanId, server.spanId);
  assert.deepEqual(be.seen, [{
    path: "/hello/world?token=secret",
    traceparent: `00-${TRACE}-${attempt.spanId}-01`,
    tracestate: "vendor=abc,other=1",
  }]);
  assert.equal(server.traceState, "vendor=abc,other=1");
  // W3C flags in the low byte (sampled), OTLP's "parent is remote" bits above.
  assert.equal(server.flags & 0xff, 1);
  assert.equal(server.flags & 0x300, 0x300);
  assert.equal(attempt.flags & 0x300, 0x100);

  assert.equal(server.name, "GET default");
  assert.equal(server.status.code, "unset");
  assert.deepEqual(server.resource["service.name"], "edge");
  assert.equal(server.scope, "deno-lb");
  const requestId = res.headers.get("x-request-id")!;
  assert.deepEqual(
    { ...server.attributes },
    {
      "http.request.method": "GET",
      "url.path": "/hello/world",
      "client.address": "127.0.0.1",
      "network.peer.address": "127.0.0.1",
      "lb.route": "default",
      "lb.pool": "default",
      "server.address": "127.0.0.1",
      "server.port": lb.port,
      "network.protocol.version": "1.1",
      "user_agent.original": "tracing-test/1",
      "lb.request_id": requestId,
      "http.response.status_code": 200,
      "http.response.body.size": res.body.length,
      "lb.backend": be.origin,
    },
  );
  assert.equal(attempt.name, "GET");
  assert.deepEqual(
    { ...attempt.attributes },
    {
      "http.request.method": "GET",
      "server.address": "127.0.0.1",
      "server.port": be.port,
      "lb.backend": be.origin,
      "lb.attempt": 1,
      "http.response.status_code": 200,
    },
  );
  // The attempt lies within the request.
  assert.ok(server.startNs <= attempt.startNs && attempt.startNs <= attempt.endNs);
  assert.ok(attempt.endNs <= server.endNs);
  const wall = BigInt(Date.now()) * 1_000_000n;
  assert.ok(wall - server.startNs < 60_000_000_000n && server.startNs <= wall, "wall-clock times");
  assert.equal(receiver.lastHeaders?.get("x-api-key"), "s=cret");
  await waitFor(async () => (await spanCounts(lb)).exported === 2, 5000, "exported count");
});

Deno.test("tracing: a retry on an answer is a second attempt span, each backend under its own", async () => {
  await using receiver = startOtlpReceiver();
  await using failing = traceBackend(() => 503);
  await using working = traceBackend();
  await using file = await configFile({
    policies: { tracing: true, retry: { "on-status": [503] } },
  });
  await using lb = await tracingLb([failing.origin, working.origin], receiver, file.path, [
    "--strategy",
    "round-robin",
  ]);
  // Round robin: one of two requests starts on the failing backend.
  for (let i = 0; i < 2; i++) assert.equal((await get(lb, `/r${i}`)).status, 200);
  assert.equal(failing.seen.length, 1);
  assert.equal(working.seen.length, 2);
  const traceId = failing.seen[0].traceparent!.slice(3, 35);
  await receiver.waitFor((spans) => byTrace(spans, traceId).length === 3);
  const spans = byTrace(receiver.spans, traceId);
  const server = spans.find((s) => s.kind === "server")!;
  const attempts = spans.filter((s) => s.kind === "client")
    .sort((a, b) => Number(a.attributes["lb.attempt"]) - Number(b.attributes["lb.attempt"]));
  assert.equal(attempts.length, 2);
  assert.equal(server.parentSpanId, undefined, "a new trace: no parent");
  for (const a of attempts) assert.equal(a.parentSpanId, server.spanId);
  const [first, second] = attempts;
  assert.equal(first.attributes["lb.backend"], failing.origin);
  assert.equal(first.attributes["http.response.status_code"], 503);
  assert.equal(first.attributes["error.type"], "503");
  assert.equal(first.status.code, "error");
  assert.equal(first.attributes["http.request.resend_count"], undefined);
  assert.equal(second.attributes["lb.backend"], working.origin);
  assert.equal(second.attributes["http.response.status_code"], 200);
  assert.equal(second.attributes["http.request.resend_count"], 1);
  assert.equal(second.attributes["lb.attempt"], 2);
  assert.equal(second.status.code, "unset");
  assert.equal(server.attributes["http.response.status_code"], 200);
  assert.equal(server.attributes["lb.backend"], working.origin);
  // Each backend saw the span of the attempt that reached it.
  assert.equal(failing.seen[0].traceparent, `00-${traceId}-${first.spanId}-01`);
  const retried = working.seen.find((s) => s.traceparent?.includes(traceId))!;
  assert.equal(retried.traceparent, `00-${traceId}-${second.spanId}-01`);
  assert.ok(first.endNs <= second.startNs, "the retry follows the first attempt");
});

Deno.test("tracing: sampling follows a parent's flag, a new trace takes the ratio, and unsampled requests still carry context", async () => {
  await using receiver = startOtlpReceiver();
  await using be = traceBackend();
  await using file = await configFile({
    "trust-proxy": "10.0.0.0/8",
    routes: [
      {
        name: "trusted",
        match: { "path-prefix": "/trusted" },
        pool: "default",
        policies: { tracing: { follow: "trusted" } },
      },
      {
        name: "never",
        match: { "path-prefix": "/never" },
        pool: "default",
        policies: { tracing: { follow: "never", sample: 0 } },
      },
      { name: "rest", match: {}, pool: "default" },
    ],
    policies: { tracing: { sample: 0 } },
  });
  await using lb = await tracingLb([be.origin], receiver, file.path);
  const tp = (flags: string, trace = TRACE) => ({ traceparent: `00-${trace}-${PARENT}-${flags}` });
  const last = () => be.seen[be.seen.length - 1];

  // Ratio 0, no parent: fresh ids with the sampled flag off, no spans.
  await get(lb, "/a");
  assert.match(last().traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.equal(last().tracestate, null);
  // An unsampled parent goes upstream exactly as it came, tracestate too.
  await get(lb, "/b", { ...tp("00"), tracestate: "k=v" });
  assert.equal(last().traceparent, `00-${TRACE}-${PARENT}-00`);
  assert.equal(last().tracestate, "k=v");
  // A later version is sent on as version 00.
  await get(lb, "/c", { traceparent: `01-${TRACE}-${PARENT}-00-more` });
  assert.equal(last().traceparent, `00-${TRACE}-${PARENT}-00`);
  // An invalid traceparent restarts the trace and drops the tracestate with it.
  await get(lb, "/d", { traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01`, tracestate: "k=v" });
  assert.doesNotMatch(last().traceparent!, new RegExp(TRACE, "i"));
  assert.match(last().traceparent!, /-00$/);
  assert.equal(last().tracestate, null);
  // follow: never ignores even a sampled parent.
  await get(lb, "/never", tp("01"));
  assert.doesNotMatch(last().traceparent!, new RegExp(TRACE));
  // follow: trusted ignores an untrusted client (this test's 127.0.0.1)...
  const other = "11112222333344445555666677778888";
  await get(lb, "/trusted/x", tp("01", other));
  assert.doesNotMatch(last().traceparent!, new RegExp(other));
  assert.match(last().traceparent!, /-01$/, "sample 1 on that route: a new sampled trace");
  const untrustedTrace = last().traceparent!.slice(3, 35);

  // A sampled parent is recorded even at ratio 0.
  await get(lb, "/sampled", tp("01"));
  assert.match(last().traceparent!, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  await receiver.waitFor((spans) => byTrace(spans, TRACE).length === 2);
  await receiver.waitFor((spans) => byTrace(spans, untrustedTrace).length === 2);
  // Only those two requests were recorded: the unsampled ones sent nothing.
  assert.equal(receiver.spans.length, 4);
  const sampled = byTrace(receiver.spans, TRACE).find((s) => s.kind === "server")!;
  assert.equal(sampled.attributes["url.path"], "/sampled");
  // The receiver has the spans before the lb has read its answer and counted them.
  await waitFor(async () => (await spanCounts(lb)).exported === 4, 5000, "exported count");
  assert.equal((await spanCounts(lb)).dropped ?? 0, 0);
});

Deno.test("tracing: spans still queued go out when the lb stops", async () => {
  await using receiver = startOtlpReceiver();
  await using be = traceBackend();
  await using file = await configFile({ policies: { tracing: true } });
  const lb = await startLb([be.origin], [
    "--config",
    file.path,
    "--otlp-endpoint",
    receiver.url,
    "--otlp-interval",
    "1h",
  ]);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await get(lb, `/q${i}`)).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.requests, 0, "nothing sent before the interval or a full batch");
  } finally {
    assert.equal(await lb.stop(), 0);
  }
  assert.equal(receiver.spans.length, 6);
  assert.equal(receiver.requests, 1, "one batch");
});

Deno.test("tracing: a collector that refuses or is gone costs spans, counted, never requests", async () => {
  await using receiver = startOtlpReceiver();
  receiver.status = 503;
  await using be = traceBackend();
  await using file = await configFile({ policies: { tracing: true } });
  await using lb = await tracingLb([be.origin], receiver, file.path, ["--otlp-timeout", "1s"]);
  for (let i = 0; i < 3; i++) assert.equal((await get(lb, `/f${i}`)).status, 200);
  await waitFor(async () => (await spanCounts(lb)).failed === 6, 5000, "failed count");
  await lb.proc.waitForLine(/OTLP export to .* failed.*503/);
  receiver.status = 200;
  assert.equal((await get(lb, "/ok")).status, 200);
  await waitFor(async () => (await spanCounts(lb)).exported === 2, 5000, "exported again");
  await lb.proc.waitForLine(/OTLP export to .* works again/);
  // And with nothing listening at all.
  const port = receiver.url.split(":")[2];
  await receiver.close();
  for (let i = 0; i < 3; i++) assert.equal((await get(lb, `/gone${i}`)).status, 200);
  await waitFor(async () => (await spanCounts(lb)).failed === 12, 5000, "failed while gone");
  assert.ok(port);
});

Deno.test("tracing: with --workers 2, the spans of every worker thread reach the collector and are counted", async () => {
  await using receiver = startOtlpReceiver();
  await using be = traceBackend();
  await using file = await configFile({ policies: { tracing: true } });
  await using lb = await tracingLb([be.origin], receiver, file.path, ["--workers", "2"]);
  // Separate connections, so both workers' listeners are likely to take some.
  for (let i = 0; i < 20; i++) {
    const client = Deno.createHttpClient({});
    try {
      const res = await fetch(`${lb.url}/w${i}`, { client });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    } finally {
      client.close();
    }
  }
  await receiver.waitFor((spans) => spans.length === 40);
  const servers = receiver.spans.filter((s) => s.kind === "server");
  assert.equal(new Set(servers.map((s) => s.attributes["url.path"])).size, 20);
  for (const s of receiver.spans.filter((s) => s.kind === "client")) {
    assert.ok(servers.some((p) => p.spanId === s.parentSpanId));
  }
  await waitFor(async () => (await spanCounts(lb)).exported === 40, 5000, "exported over workers");
});
