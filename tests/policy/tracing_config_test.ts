/**
 * Tracing's configuration: the route block's defaults and checks, the
 * `--otlp-*` options from flags, environment and file, tracing dropped
 * without an endpoint, `/status`, and the lb exiting 2 on a bad value with
 * its key named.
 */

import assert from "node:assert/strict";
import { checkConfig, withConfig } from "./_config.ts";
import { parseConfig } from "../../mod.ts";
import { UsageError } from "../../lib/config/cli.ts";
import { readOtlpHeaders } from "../../lib/config/policies/tracing.ts";
import { inProcess } from "../routes/_routes.ts";

const BACKENDS = { backends: ["http://127.0.0.1:1"] };

function problems(
  object: Record<string, unknown>,
  env: Record<string, string> = {},
  args: string[] = [],
) {
  try {
    parseConfig({ ...BACKENDS, ...object }, { env, args });
    return [];
  } catch (err) {
    if (err instanceof UsageError) return [...err.problems];
    throw err;
  }
}

Deno.test("tracing config: without --otlp-endpoint every tracing entry is dropped, and a route left with none has no policies", () => {
  const config = parseConfig({
    ...BACKENDS,
    routes: [
      { name: "a", match: {}, pool: "default", policies: { tracing: true } },
      { name: "b", match: {}, pool: "default", policies: { tracing: true, "request-id": true } },
    ],
  });
  assert.equal(config.routes[0].policies, undefined);
  assert.deepEqual(Object.keys(config.routes[1].policies!), ["requestId"]);
});

Deno.test("tracing config: defaults, the route's settings, and the exporter from flags, environment or file", () => {
  const config = parseConfig({
    ...BACKENDS,
    "otlp-endpoint": "http://collector.test:4318/otel/",
    "otlp-queue-size": 100,
    routes: [
      {
        name: "a",
        match: { "path-prefix": "/a" },
        pool: "default",
        policies: { tracing: { sample: 0.25, follow: "trusted" } },
      },
      { name: "b", match: {}, pool: "default" },
    ],
    policies: { tracing: true },
  });
  const a = config.routes[0].policies!.tracing!;
  const b = config.routes[1].policies!.tracing!;
  assert.equal(a.sample, 0.25);
  assert.equal(a.follow, "trusted");
  assert.equal(b.sample, 1);
  assert.equal(b.follow, "any");
  assert.deepEqual(a.export, {
    endpoint: "http://collector.test:4318/otel",
    url: "http://collector.test:4318/otel/v1/traces",
    headers: [],
    serviceName: "lb",
    queueSize: 100,
    batchSize: 100, // no larger than the queue
    intervalMs: 5000,
    timeoutMs: 10_000,
  });
  assert.equal(b.export, a.export);
  const fromEnv = parseConfig({ ...BACKENDS, policies: { tracing: true } }, {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.test",
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%20def,x-team=edge",
      OTEL_SERVICE_NAME: "front",
    },
    args: ["--otlp-interval", "250ms", "--otlp-timeout", "2s", "--otlp-batch-size", "64"],
  });
  assert.deepEqual(fromEnv.routes[0].policies!.tracing!.export, {
    endpoint: "https://otel.test",
    url: "https://otel.test/v1/traces",
    headers: [["api-key", "abc def"], ["x-team", "edge"]],
    serviceName: "front",
    queueSize: 2048,
    batchSize: 64,
    intervalMs: 250,
    timeoutMs: 2000,
  });
});

Deno.test("tracing config: bad values name their flag, variable or key", () => {
  const route = (tracing: unknown) => ({
    routes: [{ match: {}, pool: "default", policies: { tracing } }],
  });
  const has = (found: string[], re: RegExp) =>
    assert.ok(found.some((p) => re.test(p)), found.join("\n"));
  has(problems(route({ sample: 2 })), /routes\[0\]\.policies\.tracing.*sample/);
  has(problems(route({ follow: "everyone" })), /routes\[0\]\.policies\.tracing.*follow/);
  has(problems(route({ rate: 1 })), /routes\[0\]\.policies\.tracing/);
  has(
    problems({}, {}, ["--otlp-endpoint", "ftp://x"]),
    /^--otlp-endpoint: "ftp:\/\/x" must be an http/,
  );
  has(
    problems({}, {}, ["--otlp-endpoint", "not a url"]),
    /^--otlp-endpoint: "not a url" is not a URL/,
  );
  has(
    problems({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://u:p@c.test" }),
    // An environment variable's value is named by its flag, as for every option.
    /^--otlp-endpoint: "http:\/\/u:p@c.test" has credentials.*--otlp-headers/,
  );
  has(problems({ "otlp-endpoint": "http://c.test/?a=1" }), /otlp-endpoint.*query/);
  has(
    problems({}, {}, ["--otlp-headers", "novalue"]),
    /^--otlp-headers: "novalue" is not name=value/,
  );
  has(problems({}, {}, ["--otlp-queue-size", "0"]), /^--otlp-queue-size/);
  has(problems({}, {}, ["--otlp-interval", "0s"]), /^--otlp-interval/);
  has(problems({}, {}, ["--otlp-service-name", " "]), /^--otlp-service-name: must not be empty/);
});

Deno.test("tracing config: OTEL_EXPORTER_OTLP_HEADERS values are percent-decoded and checked", () => {
  const fails: string[] = [];
  const fail = (m: string) => void fails.push(m);
  assert.deepEqual(readOtlpHeaders(" a=1 , B=x%3Dy ,", fail), [["a", "1"], ["b", "x=y"]]);
  assert.deepEqual(readOtlpHeaders("content-type=text/plain,c=%E0%A4%A,d=%0d%0a", fail), []);
  assert.equal(fails.length, 3, fails.join("\n"));
  assert.match(fails[0], /content-type can't be set/);
  assert.match(fails[1], /not percent-encoded/);
  assert.match(fails[2], /line break/);
});

Deno.test("tracing config: /status shows each route's tracing, without the export headers", async () => {
  await using lb = inProcess({
    "otlp-endpoint": "http://127.0.0.1:1",
    "otlp-headers": "authorization=Bearer%20secret",
    policies: { tracing: { sample: 0.5 } },
  });
  const status = await lb.status();
  const text = JSON.stringify(status.routes);
  assert.match(
    text,
    /"tracing":\{"sample":0.5,"follow":"any","endpoint":"http:\/\/127.0.0.1:1","serviceName":"lb"\}/,
  );
  assert.doesNotMatch(text, /secret/);
});

Deno.test("tracing config: lb exits 2 on a bad tracing value, naming the key", async () => {
  const yaml = "backends: [http://127.0.0.1:1]\notlp-endpoint: http://127.0.0.1:4318\nroutes:\n" +
    "  - match: {}\n    pool: default\n    policies: { tracing: { sample: 1.5 } }\n";
  await withConfig(yaml, async (file) => {
    const out = await checkConfig(file);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /routes\[0\]\.policies\.tracing/);
  }, "lb.yaml");
});
