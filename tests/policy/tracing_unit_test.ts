/**
 * The tracing policy on its own, with a fake clock, a fake random source,
 * counted ids and a sink that keeps what it gets: which fields go
 * upstream for each attempt, what a sampled request records (and when),
 * and that an unsampled one keeps no state and records nothing.
 */

import assert from "node:assert/strict";
import type { TracingConfig } from "../../lib/config/policies/types.ts";
import { log } from "../../lib/core/logging.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import { UpstreamError } from "../../lib/core/transport.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { createTracing } from "../../lib/policy/tracing.ts";
import type { SpanRecord } from "../../lib/policy/trace_span.ts";
import type { TraceIds } from "../../lib/policy/trace_ids.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "../../lib/policy/types.ts";
import { splitAuthority } from "../../lib/policy/trace_attributes.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const BACKEND = { origin: "http://10.0.0.7:8080", hostname: "10.0.0.7", port: 8080, weight: 1 };

/** A policy with everything injected; `draws` are what `random()` returns, in order. */
function setup(config: Partial<TracingConfig> = {}, draws: number[] = []) {
  let mono = 1000;
  let randomCalls = 0;
  const spans: SpanRecord[] = [];
  let n = 0;
  const ids: TraceIds = {
    traceId: () => (++n).toString(16).padStart(32, "a"),
    spanId: () => (++n).toString(16).padStart(16, "b"),
  };
  const deps: PolicyDeps = {
    metrics: createLbMetrics(),
    log: log("test"),
    now: () => mono,
    wallNow: () => 1_700_000_000_000,
    random: () => {
      randomCalls++;
      return draws.shift() ?? 0.5;
    },
    shared: () => {
      throw new Error("a test sink is given: no exporter");
    },
  };
  const sink = {
    origin: { resource: { attributes: {} }, instrumentationScope: { name: "test" } } as never,
    add: (s: SpanRecord) => void spans.push(s),
  };
  const policy = createTracing({ sample: 1, follow: "any", ...config }, deps, "api", { sink, ids });
  return {
    policy,
    spans,
    advance: (ms: number) => void (mono += ms),
    get randomCalls() {
      return randomCalls;
    },
  };
}

function exchange(headers: HeaderPairs, trustedPeer = false): PolicyExchange {
  const upstream: HeaderPairs = [
    ["host", "site.test"],
    ...headers.map(([n, v]) => [n, v] as [string, string]),
  ];
  return {
    request: {
      method: "GET",
      path: "/v1/items?key=secret",
      host: "site.test:8443",
      headers,
      body: null,
      contentLength: undefined,
      signal: new AbortController().signal,
      clientIp: "192.0.2.1",
      protocol: "HTTP/1.1",
    },
    route: "api",
    pool: "web",
    upstreamHeaders: upstream,
    trustedPeer,
    clientIp: trustedPeer ? "198.51.100.9" : "192.0.2.1",
    state: new Map(),
  };
}

const fields = (x: PolicyExchange, name: string) =>
  x.upstreamHeaders.filter(([n]) => n === name).map(([, v]) => v);

function run(policy: Policy, x: PolicyExchange) {
  assert.equal(policy.request!(x), undefined, "tracing never answers");
}

Deno.test("tracing unit: a sampled request's spans, their links, times and the traceparent of each attempt", () => {
  const t = setup();
  const x = exchange([["traceparent", `00-${TRACE}-${PARENT}-01`], ["tracestate", "v=1"]]);
  run(t.policy, x);
  assert.equal(t.randomCalls, 0, "a parent decides: no draw");
  // The parent gave the trace id: the first id drawn is the server span's.
  const serverId = "1".padStart(16, "b");
  assert.deepEqual(fields(x, "traceparent"), [`00-${TRACE}-${serverId}-01`]);
  assert.deepEqual(fields(x, "tracestate"), ["v=1"]);

  t.advance(2.5);
  const end1 = t.policy.attempt!(x, BACKEND);
  const first = "2".padStart(16, "b");
  assert.deepEqual(fields(x, "traceparent"), [`00-${TRACE}-${first}-01`]);
  t.advance(10);
  end1(undefined, new UpstreamError("connect_refused", "connection refused"));
  const end2 = t.policy.attempt!(x, BACKEND);
  const second = "3".padStart(16, "b");
  assert.deepEqual(fields(x, "traceparent"), [`00-${TRACE}-${second}-01`], "replaced, not added");
  t.advance(5);
  end2(404);
  t.advance(1);
  t.policy.done!({ ...x, backend: BACKEND.origin } as PolicyExchange, 404, 12);

  assert.equal(t.spans.length, 3);
  const [a1, a2, server] = t.spans;
  assert.equal(server.spanContext().spanId, serverId);
  assert.equal(server.parentSpanContext?.spanId, PARENT);
  assert.equal(server.parentSpanContext?.isRemote, true);
  assert.equal(server.spanContext().traceState?.serialize(), "v=1");
  assert.equal(a1.parentSpanContext?.spanId, serverId);
  assert.equal(a2.parentSpanContext?.spanId, serverId);
  // Times: wall clock at the start, the monotonic clock for every offset.
  assert.deepEqual(server.startTime, [1_700_000_000, 0]);
  assert.deepEqual(a1.startTime, [1_700_000_000, 2_500_000]);
  assert.deepEqual(a1.endTime, [1_700_000_000, 12_500_000]);
  assert.deepEqual(a2.endTime, [1_700_000_000, 17_500_000]);
  assert.deepEqual(server.endTime, [1_700_000_000, 18_500_000]);
  assert.deepEqual(server.duration, [0, 18_500_000]);
  assert.deepEqual(a1.attributes, {
    "http.request.method": "GET",
    "server.address": "10.0.0.7",
    "server.port": 8080,
    "lb.backend": BACKEND.origin,
    "lb.attempt": 1,
    "error.type": "connect_refused",
  });
  assert.deepEqual(a1.status, { code: 2, message: "connection refused" });
  assert.equal(a2.attributes["http.request.resend_count"], 1);
  assert.equal(a2.attributes["http.response.status_code"], 404);
  assert.equal(a2.attributes["error.type"], "404", "a 4xx is a client span's error");
  assert.deepEqual(server.status, { code: 0 }, "but not a server span's");
  assert.equal(server.name, "GET api");
  assert.deepEqual(server.attributes, {
    "http.request.method": "GET",
    "url.path": "/v1/items",
    "client.address": "192.0.2.1",
    "network.peer.address": "192.0.2.1",
    "lb.route": "api",
    "lb.pool": "web",
    "server.address": "site.test",
    "server.port": 8443,
    "network.protocol.version": "1.1",
    "http.response.status_code": 404,
    "http.response.body.size": 12,
    "lb.backend": BACKEND.origin,
  });
});

Deno.test("tracing unit: a 5xx answer makes the server span an error", () => {
  const t = setup();
  const x = exchange([]);
  run(t.policy, x);
  t.policy.done!(x, 502, 0);
  assert.equal(t.spans[0].attributes["error.type"], "502");
  assert.deepEqual(t.spans[0].status, { code: 2, message: "answered 502" });
  assert.equal(t.spans[0].parentSpanContext, undefined);
});

Deno.test("tracing unit: an unsampled request keeps no state, records nothing, and still carries context", () => {
  const t = setup({ sample: 0.1 }, [0.5]);
  const x = exchange([]);
  run(t.policy, x);
  assert.equal(t.randomCalls, 1);
  assert.equal(x.state.size, 0);
  assert.deepEqual(fields(x, "traceparent"), [
    `00-${"1".padStart(32, "a")}-${"2".padStart(16, "b")}-00`,
  ]);
  const end = t.policy.attempt!(x, BACKEND);
  end(200);
  t.policy.done!(x, 200, 5);
  assert.equal(t.spans.length, 0);
  assert.equal(fields(x, "traceparent").length, 1, "the attempt did not touch it");

  // An unsampled parent in canonical form goes on untouched (the client's own field).
  const u = setup();
  const y = exchange([["traceparent", `00-${TRACE}-${PARENT}-00`], ["tracestate", "a=1"]]);
  const before = [...y.upstreamHeaders];
  run(u.policy, y);
  assert.deepEqual(y.upstreamHeaders, before);
  assert.equal(u.randomCalls, 0);
  // A future version is rewritten to 00; an invalid tracestate is dropped.
  const z = exchange([["traceparent", `02-${TRACE}-${PARENT}-00-x`], ["tracestate", "A=1"]]);
  run(u.policy, z);
  assert.deepEqual(fields(z, "traceparent"), [`00-${TRACE}-${PARENT}-00`]);
  assert.deepEqual(fields(z, "tracestate"), []);
});

Deno.test("tracing unit: who is followed; several traceparent fields restart the trace", () => {
  const sampledParent: HeaderPairs = [["traceparent", `00-${TRACE}-${PARENT}-01`]];
  const trusted = setup({ follow: "trusted", sample: 0 });
  const fromProxy = exchange(sampledParent, true);
  run(trusted.policy, fromProxy);
  assert.equal(trusted.spans.length + fromProxy.state.size, 1, "followed: sampled");
  const fromClient = exchange(sampledParent, false);
  run(trusted.policy, fromClient);
  assert.equal(fromClient.state.size, 0, "not followed: a new trace at ratio 0");
  assert.doesNotMatch(fields(fromClient, "traceparent")[0], new RegExp(TRACE));

  const never = setup({ follow: "never", sample: 0 });
  const y = exchange(sampledParent, true);
  run(never.policy, y);
  assert.equal(y.state.size, 0);

  const any = setup({ sample: 0 });
  const twice = exchange([...sampledParent, ["traceparent", `00-${TRACE}-${PARENT}-01`]]);
  run(any.policy, twice);
  assert.equal(twice.state.size, 0);
  assert.equal(fields(twice, "traceparent").length, 1);
  assert.doesNotMatch(fields(twice, "traceparent")[0], new RegExp(TRACE));
});

Deno.test("tracing unit: without an exporter the policy has no phases", () => {
  const deps = {
    shared: () => {
      throw new Error("no exporter without an endpoint");
    },
  } as unknown as PolicyDeps;
  const policy = createTracing({ sample: 1, follow: "any" }, deps, "api");
  assert.deepEqual(Object.keys(policy), ["kind"]);
});

Deno.test("tracing unit: host and port of the request's authority", () => {
  assert.deepEqual(splitAuthority("site.test"), { address: "site.test" });
  assert.deepEqual(splitAuthority("site.test:8080"), { address: "site.test", port: 8080 });
  assert.deepEqual(splitAuthority("[::1]:8443"), { address: "::1", port: 8443 });
  assert.deepEqual(splitAuthority("[::1]"), { address: "::1" });
  assert.deepEqual(splitAuthority("site.test:x"), { address: "site.test" });
});
