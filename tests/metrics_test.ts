import assert from "node:assert/strict";
import { PROMETHEUS_CONTENT_TYPE, Registry } from "../lib/metrics/registry.ts";
import {
  createLbMetrics,
  DURATION_BUCKETS,
  methodLabel,
  statusClass,
} from "../lib/metrics/lb_metrics.ts";

function lines(registry: Registry): string[] {
  const text = registry.render();
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  return text.slice(0, -1).split("\n");
}

// --- counters and gauges ----------------------------------------------------

Deno.test("Registry renders a counter without labels", () => {
  const r = new Registry();
  const c = r.counter("jobs_total", "Jobs done.").labels();
  c.inc();
  c.inc(2);
  assert.deepEqual(lines(r), [
    "# HELP jobs_total Jobs done.",
    "# TYPE jobs_total counter",
    "jobs_total 3",
  ]);
});

Deno.test("Registry renders a family with no children as HELP and TYPE only", () => {
  const r = new Registry();
  r.counter("idle_total", "Nothing yet.", ["a"]);
  assert.deepEqual(lines(r), ["# HELP idle_total Nothing yet.", "# TYPE idle_total counter"]);
});

Deno.test("Registry renders labelled children in creation order", () => {
  const r = new Registry();
  const c = r.counter("req_total", "Requests.", ["method", "code"]);
  c.labels("GET", "2xx").inc(5);
  c.labels("POST", "5xx").inc();
  c.labels("GET", "2xx").inc();
  assert.deepEqual(lines(r).slice(2), [
    'req_total{method="GET",code="2xx"} 6',
    'req_total{method="POST",code="5xx"} 1',
  ]);
});

Deno.test("Counter: labels() returns the same child for the same values", () => {
  const c = new Registry().counter("x_total", "x", ["a", "b"]);
  assert.equal(c.labels("1", "2"), c.labels("1", "2"));
  assert.notEqual(c.labels("1", "2"), c.labels("12", ""));
});

Deno.test("Gauge: set, inc and dec", () => {
  const r = new Registry();
  const g = r.gauge("temp", "Temperature.", ["room"]);
  g.labels("a").set(10);
  g.labels("a").inc();
  g.labels("a").inc(4);
  g.labels("a").dec(2.5);
  g.labels("b").dec();
  assert.deepEqual(lines(r), [
    "# HELP temp Temperature.",
    "# TYPE temp gauge",
    'temp{room="a"} 12.5',
    'temp{room="b"} -1',
  ]);
});

const ESCAPES: [string, string][] = [
  ["plain", "plain"],
  ["back\\slash", "back\\\\slash"],
  ['quo"te', 'quo\\"te'],
  ["new\nline", "new\\nline"],
  ['all \\ " \n', 'all \\\\ \\" \\n'],
];

for (const [value, escaped] of ESCAPES) {
  Deno.test(`Registry escapes label value ${JSON.stringify(value)}`, () => {
    const r = new Registry();
    r.gauge("g", "g", ["v"]).labels(value).set(1);
    assert.deepEqual(lines(r).slice(2), [`g{v="${escaped}"} 1`]);
  });
}

// Regression test for a fixed bug (lib/metrics/registry.ts:40): the text format (0.0.4) requires `\` and
// line feed in HELP text to be escaped as `\\` and `\n`; render() writes the
// help string as is, so a newline in help splits the line and corrupts the
// exposition. Latent: every help string in lb_metrics.ts is a plain sentence.
Deno.test({
  name: "Registry escapes backslash and newline in HELP text",
  fn() {
    const r = new Registry();
    r.counter("x_total", "a\\b\nc");
    assert.equal(lines(r)[0], "# HELP x_total a\\\\b\\nc");
  },
});

// --- histograms -------------------------------------------------------------

Deno.test("Histogram renders cumulative buckets, +Inf, _sum and _count", () => {
  const r = new Registry();
  const h = r.histogram("lat_seconds", "Latency.", ["backend"], [0.1, 0.5, 1]);
  const child = h.labels("a");
  for (const v of [0.05, 0.1, 0.3, 0.7, 2, 5]) child.observe(v);
  assert.deepEqual(lines(r), [
    "# HELP lat_seconds Latency.",
    "# TYPE lat_seconds histogram",
    'lat_seconds_bucket{backend="a",le="0.1"} 2',
    'lat_seconds_bucket{backend="a",le="0.5"} 3',
    'lat_seconds_bucket{backend="a",le="1"} 4',
    'lat_seconds_bucket{backend="a",le="+Inf"} 6',
    'lat_seconds_sum{backend="a"} 8.15',
    'lat_seconds_count{backend="a"} 6',
  ]);
});

Deno.test("Histogram without labels puts only le in braces", () => {
  const r = new Registry();
  r.histogram("h", "h", [], [1]).labels().observe(0.5);
  assert.deepEqual(lines(r).slice(2), [
    'h_bucket{le="1"} 1',
    'h_bucket{le="+Inf"} 1',
    "h_sum 0.5",
    "h_count 1",
  ]);
});

Deno.test("Histogram: a value equal to a bound falls in that bucket (le is inclusive)", () => {
  const r = new Registry();
  const child = r.histogram("h", "h", [], [1, 2]).labels();
  child.observe(1);
  child.observe(2);
  assert.deepEqual(lines(r).slice(2, 5), [
    'h_bucket{le="1"} 1',
    'h_bucket{le="2"} 2',
    'h_bucket{le="+Inf"} 2',
  ]);
});

Deno.test("Histogram: an empty child renders zeros", () => {
  const r = new Registry();
  r.histogram("h", "h", ["x"], [1]).labels("y");
  assert.deepEqual(lines(r).slice(2), [
    'h_bucket{x="y",le="1"} 0',
    'h_bucket{x="y",le="+Inf"} 0',
    'h_sum{x="y"} 0',
    'h_count{x="y"} 0',
  ]);
});

Deno.test("Histogram: escaped label values keep le well-formed", () => {
  const r = new Registry();
  r.histogram("h", "h", ["x"], [1]).labels('a"}').observe(3);
  assert.equal(lines(r)[2], 'h_bucket{x="a\\"}",le="1"} 0');
});

// --- registry rules ---------------------------------------------------------

Deno.test("Registry: registering a name twice throws, whatever the type", () => {
  const r = new Registry();
  r.counter("dup", "first");
  assert.throws(() => r.counter("dup", "again"), /dup/);
  assert.throws(() => r.gauge("dup", "again"), /dup/);
  assert.throws(() => r.histogram("dup", "again", [], [1]), /dup/);
});

Deno.test("Metric.labels throws on the wrong number of values", () => {
  const r = new Registry();
  const c = r.counter("c", "c", ["a", "b"]);
  assert.throws(() => c.labels("1"), RangeError);
  assert.throws(() => c.labels("1", "2", "3"), RangeError);
  assert.throws(() => r.gauge("g", "g").labels("x"), RangeError);
  assert.throws(() => r.histogram("h", "h", ["a"], [1]).labels(), RangeError);
});

Deno.test("Registry: beforeRender hooks run on every render, in order, before rendering", () => {
  const r = new Registry();
  const g = r.gauge("up", "Up.").labels();
  const calls: string[] = [];
  let n = 0;
  r.beforeRender(() => {
    calls.push("a");
    g.set(++n);
  });
  r.beforeRender(() => calls.push("b"));
  assert.equal(lines(r)[2], "up 1");
  assert.equal(lines(r)[2], "up 2");
  assert.deepEqual(calls, ["a", "b", "a", "b"]);
});

Deno.test("Registry renders families in registration order", () => {
  const r = new Registry();
  r.gauge("b", "b").labels().set(1);
  r.counter("a_total", "a").labels().inc();
  assert.deepEqual(lines(r).filter((l) => l.startsWith("# TYPE")), [
    "# TYPE b gauge",
    "# TYPE a_total counter",
  ]);
});

Deno.test("PROMETHEUS_CONTENT_TYPE is text format 0.0.4", () => {
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

// --- lb_metrics -------------------------------------------------------------

Deno.test("createLbMetrics registers every family once, with HELP and TYPE", () => {
  const m = createLbMetrics();
  const text = m.registry.render();
  for (
    const name of [
      "lb_requests_total",
      "lb_request_duration_seconds",
      "lb_requests_in_flight",
      "lb_backend_requests_in_flight",
      "lb_backend_up",
      "lb_health_transitions_total",
      "lb_health_probes_total",
      "lb_retries_total",
      "lb_upstream_errors_total",
    ]
  ) {
    assert.equal(text.split(`# TYPE ${name} `).length, 2, name);
    assert.ok(text.includes(`# HELP ${name} `), name);
  }
  assert.ok(text.includes("lb_requests_in_flight 0\n"));
  assert.throws(() => createLbMetrics(m.registry), /registered twice/);
});

Deno.test("DURATION_BUCKETS ascend from 1 ms to 30 s", () => {
  assert.equal(DURATION_BUCKETS[0], 0.001);
  assert.equal(DURATION_BUCKETS.at(-1), 30);
  for (let i = 1; i < DURATION_BUCKETS.length; i++) {
    assert.ok(DURATION_BUCKETS[i] > DURATION_BUCKETS[i - 1]);
  }
});

const METHODS: [string, string][] = [
  ["GET", "GET"],
  ["HEAD", "HEAD"],
  ["POST", "POST"],
  ["PUT", "PUT"],
  ["DELETE", "DELETE"],
  ["PATCH", "PATCH"],
  ["OPTIONS", "OPTIONS"],
  ["CONNECT", "CONNECT"],
  ["TRACE", "TRACE"],
  ["PROPFIND", "OTHER"],
  ["get", "OTHER"],
  ["", "OTHER"],
];

for (const [method, label] of METHODS) {
  Deno.test(`methodLabel(${JSON.stringify(method)}) is ${label}`, () => {
    assert.equal(methodLabel(method), label);
  });
}

const CLASSES: [number, string][] = [
  [100, "1xx"],
  [200, "2xx"],
  [204, "2xx"],
  [301, "3xx"],
  [404, "4xx"],
  [499, "4xx"],
  [500, "5xx"],
  [503, "5xx"],
  [599, "5xx"],
];

for (const [status, label] of CLASSES) {
  Deno.test(`statusClass(${status}) is ${label}`, () => {
    assert.equal(statusClass(status), label);
  });
}
