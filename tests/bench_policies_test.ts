/**
 * `deno task bench --policies`: the flag, the config each policy variant
 * generates (accepted by the lb's own parser, one policy per variant,
 * every policy the lb has in `lb+all`), the headers wrk sends, the cost
 * table against `lb`, and the services the variants point at (the
 * backends' `/auth`, `/v1/traces` and `/text`, a real redis-server).
 */

import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { UsageError } from "../lib/config/cli.ts";
import { parseConfigFile } from "../lib/config/file.ts";
import { parseLbArgs } from "../lib/config/parse.ts";
import { POLICY_KEYS } from "../lib/config/policies/mod.ts";
import { startBackends } from "../scripts/bench/backends.ts";
import { handle } from "../scripts/bench/deno_backend.ts";
import { nginxBackendConfig, TEXT_BODY_BYTES, textBody } from "../scripts/bench/configs.ts";
import { CASES, DEFAULT_CASES } from "../scripts/bench/cases.ts";
import { parseOptions } from "../scripts/bench/options.ts";
import {
  ACCEPT_ENCODING_LINE,
  AUTHORIZATION_LINE,
  BENCH_USER,
  headerRecord,
  missingPolicies,
  POLICY_VARIANTS,
  policyConfigText,
  type PolicyServices,
  policyVariant,
} from "../scripts/bench/policy_configs.ts";
import {
  cpuMicrosPerRequest,
  evidenceLines,
  policyCostRows,
  policyCostTable,
  policyMetricLines,
  policyRatioPairs,
  policySection,
  withPolicyTargets,
} from "../scripts/bench/policy_report.ts";
import { policyEvidence, startPolicyTargets } from "../scripts/bench/policy_targets.ts";
import { findExecutable, Processes } from "../scripts/bench/processes.ts";
import { redisArgs, redisKeys, respCommand, startRedis } from "../scripts/bench/redis_server.ts";
import type { Summary } from "../scripts/bench/report.ts";
import { noteWarmup } from "../scripts/bench/rounds.ts";
import { wrkArgs } from "../scripts/bench/wrk.ts";

const SERVICES: PolicyServices = {
  origin: "http://127.0.0.1:8001",
  redisUrl: "redis://127.0.0.1:6390",
  accessLogFile: "/tmp/bench/lb+access-log.access.jsonl",
};

function problems(args: string[]): string[] {
  try {
    parseOptions(args);
  } catch (err) {
    if (err instanceof UsageError) return [...err.problems];
    throw err;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

function row(target: string, requestsPerSec: number, p99Ms: number, proxyCpus?: number): Summary {
  return {
    target,
    runs: 3,
    failedRuns: 0,
    requestsPerSec,
    p50Ms: 1,
    p99Ms,
    errors: 0,
    ...(proxyCpus === undefined ? {} : { proxyCpus }),
  };
}

Deno.test("parseOptions: no variants unless asked; all is every one; a list keeps table order", () => {
  const none = parseOptions([]);
  assert.ok(none !== "help");
  assert.deepEqual(none.policies, []);
  const all = parseOptions(["--policies", "all", "--targets", "lb"]);
  assert.ok(all !== "help");
  assert.deepEqual(all.policies, [...POLICY_VARIANTS]);
  const some = parseOptions(["--policies", " headers,ip ", "--targets", "lb,nginx"]);
  assert.ok(some !== "help");
  assert.deepEqual(some.policies, ["ip", "headers"]);
});

Deno.test("parseOptions: --policies problems name the flag, the variant and what lb needs", () => {
  assert.match(problems(["--policies", "ip,gzip"])[0], /^--policies: "gzip" is not one of ip, /);
  assert.deepEqual(problems(["--policies", ","]), [
    "--policies: names no variant (expected all, or e.g. ip,rate-limit)",
  ]);
  assert.deepEqual(problems(["--policies", "ip", "--targets", "nginx"]), [
    "--policies: each variant is compared with lb, and --targets has no lb",
  ]);
  assert.deepEqual(problems(["--policies", "ip", "--targets", "lb", "--workers", "2"]), [
    "--policies: the variants run with one worker, as lb does; --workers has no 1",
  ]);
});

Deno.test("parseOptions: the text case runs only when named", () => {
  const o = parseOptions([]);
  assert.ok(o !== "help");
  assert.ok(!o.cases.includes("text"));
  assert.deepEqual(o.cases, [...DEFAULT_CASES]);
  const t = parseOptions(["--cases", "text,small"]);
  assert.ok(t !== "help");
  assert.deepEqual(t.cases, ["small", "text"]);
  assert.equal(CASES.text.kind === "wrk" && CASES.text.path, "/text");
});

Deno.test("policyVariant: each holds only its policy; lb+all holds every policy the lb has", () => {
  for (const name of POLICY_VARIANTS) {
    const v = policyVariant(name, SERVICES);
    assert.equal(v.label, name === "combined" ? "lb+all" : `lb+${name}`);
    const keys = Object.keys(v.policies);
    if (name === "combined") {
      // A policy added to the lb without a variant here fails this line.
      assert.deepEqual([...keys].sort(), [...POLICY_KEYS].sort());
    } else {
      assert.deepEqual(keys, [name === "rate-limit-redis" ? "rate-limit" : name]);
    }
    assert.deepEqual(JSON.parse(policyConfigText(v)), { policies: v.policies });
  }
  const combined = policyVariant("combined", SERVICES);
  assert.deepEqual(combined.headers, [AUTHORIZATION_LINE, ACCEPT_ENCODING_LINE]);
  assert.equal(combined.needsRedis, false, "lb+all keeps its buckets local");
  assert.ok(policyVariant("rate-limit-redis", SERVICES).needsRedis);
  assert.deepEqual(
    (policyVariant("rate-limit-redis", SERVICES).policies["rate-limit"] as { store: unknown })
      .store,
    { url: SERVICES.redisUrl },
  );
  assert.deepEqual(policyVariant("access-log", SERVICES).flags, [
    "--access-log-format",
    "json",
    "--access-log-file",
    SERVICES.accessLogFile,
  ]);
  assert.deepEqual(policyVariant("tracing", SERVICES).flags, ["--otlp-endpoint", SERVICES.origin]);
});

Deno.test("policyVariant: the lb's own parser accepts every variant's file and flags", () => {
  for (const name of POLICY_VARIANTS) {
    const v = policyVariant(name, SERVICES);
    const file = parseConfigFile(`${v.label}.json`, policyConfigText(v));
    let command;
    try {
      command = parseLbArgs(
        ["--backends", "http://127.0.0.1:1", ...v.flags],
        {},
        () => "secret",
        file,
      );
    } catch (err) {
      assert.fail(`${v.label}: ${err instanceof UsageError ? err.problems.join("; ") : err}`);
    }
    assert.equal(command.kind, "run");
    const policies = command.config.routes.map((r) => r.policies ?? {});
    assert.ok(policies.length > 0, `${v.label}: no route`);
    for (const set of policies) {
      assert.equal(
        Object.keys(set).length,
        Object.keys(v.policies).length,
        `${v.label}: ${JSON.stringify(Object.keys(set))}`,
      );
    }
  }
});

Deno.test("basic-auth: the credentials wrk sends match the stored hash", () => {
  const v = policyVariant("basic-auth", SERVICES);
  const users = (v.policies["basic-auth"] as { users: Record<string, string> }).users;
  const auth = headerRecord(v.headers).authorization;
  const [user, password] = atob(auth.replace(/^Basic /, "")).split(":");
  assert.equal(user, BENCH_USER);
  assert.ok(bcrypt.compareSync(password, users[BENCH_USER]));
});

Deno.test("wrkArgs: each header line is one -H before the URL", () => {
  assert.deepEqual(
    wrkArgs({
      url: "http://127.0.0.1:9/",
      connections: 64,
      threads: 1,
      seconds: 5,
      headers: [AUTHORIZATION_LINE, "X-A: b"],
    }),
    [
      "--latency",
      "-t1",
      "-c64",
      "-d5s",
      "-H",
      AUTHORIZATION_LINE,
      "-H",
      "X-A: b",
      "http://127.0.0.1:9/",
    ],
  );
  assert.deepEqual(
    wrkArgs({ url: "http://127.0.0.1:9/", connections: 1, threads: 1, seconds: 1 }),
    ["--latency", "-t1", "-c1", "-d1s", "http://127.0.0.1:9/"],
  );
});

Deno.test("headerRecord and missingPolicies", () => {
  assert.deepEqual(headerRecord(["Authorization: Basic a:b", "X-Y:z"]), {
    authorization: "Basic a:b",
    "x-y": "z",
  });
  const v = policyVariant("combined", SERVICES);
  assert.deepEqual(missingPolicies(v, [{ policies: v.policies }]), []);
  const { ip: _ip, tracing: _tracing, ...rest } = v.policies;
  assert.deepEqual(missingPolicies(v, [{ policies: rest }, {}]), ["ip", "tracing"]);
});

Deno.test("policyCostRows: each variant against lb: ratios and CPU microseconds per request", () => {
  const rows = [
    row("direct", 90_000, 1),
    row("lb", 20_000, 4, 1.0),
    row("lb+ip", 19_000, 4.4, 1.0),
    row("lb+all", 10_000, 8),
    row("nginx", 40_000, 2),
  ];
  const cost = policyCostRows("small", rows);
  assert.deepEqual(cost.map((r) => r.target), ["lb", "lb+ip", "lb+all"]);
  assert.equal(cost[0].requestsRatio, 1);
  assert.equal(cost[1].requestsRatio, 0.95);
  assert.ok(Math.abs(cost[1].p99Ratio - 1.1) < 1e-9);
  assert.equal(cost[0].cpuMicros, 50);
  assert.ok(Math.abs(cost[1].addedCpuMicros! - (1e6 / 19_000 - 50)) < 1e-9);
  assert.equal(cost[2].cpuMicros, undefined);
  assert.deepEqual(policyCostRows("small", rows.filter((r) => r.target !== "lb")), []);
  assert.equal(cpuMicrosPerRequest(row("x", 0, 1, 1)), undefined);
  const text = policyCostTable(cost);
  assert.match(text, /^\| case \| target \| req\/s \| req\/s vs lb \|/);
  assert.match(text, /\| small \| lb \| 20,000 \| 1\.00× \| 4\.00 \| 1\.00× \| 50\.0 \| — \| 0 \|/);
  assert.match(
    text,
    /\| small \| lb\+ip \| 19,000 \| 0\.95× \| 4\.40 \| 1\.10× \| 52\.6 \| \+2\.6 \| 0 \|/,
  );
  assert.match(
    text,
    /\| small \| lb\+all \| 10,000 \| 0\.50× \| 8\.00 \| 2\.00× \| — \| — \| 0 \|/,
  );
});

Deno.test("policySection, policyRatioPairs and withPolicyTargets", () => {
  const summaries = [["small", [row("lb", 20_000, 4), row("lb+ip", 19_000, 4)]] as const];
  const section = policySection(summaries, { "lb+ip": [] }, "not pinned");
  assert.match(section, /^## Edge policies\n/);
  assert.match(section, /- lb\+ip: no policy metric above 0/);
  assert.equal(policySection([["small", [row("lb", 1, 1)]]], {}, "x"), "");
  assert.deepEqual(policyRatioPairs(["lb+ip", "lb", "nginx", "lb+all"]), [
    { of: "lb+ip", over: "lb" },
    { of: "lb+all", over: "lb" },
  ]);
  assert.deepEqual(withPolicyTargets(["direct", "lb", "lb-w2", "nginx"], ["lb+ip"]), [
    "direct",
    "lb",
    "lb+ip",
    "lb-w2",
    "nginx",
  ]);
  assert.deepEqual(withPolicyTargets(["nginx"], ["lb+ip"]), ["nginx", "lb+ip"]);
});

Deno.test("policyMetricLines: the non-zero samples of the policy families only", () => {
  const text = [
    "# HELP lb_trace_spans_total Trace spans",
    "# TYPE lb_trace_spans_total counter",
    'lb_trace_spans_total{result="exported"} 1234',
    'lb_trace_spans_total{result="dropped"} 0',
    'lb_requests_total{route="default"} 99',
    'lb_forward_auth_requests_total{route="a b",result="allowed"} 7',
    "lb_rate_limit_keys_other 3",
    "",
  ].join("\n");
  assert.deepEqual(policyMetricLines(text), [
    'lb_trace_spans_total{result="exported"} 1234',
    'lb_forward_auth_requests_total{route="a b",result="allowed"} 7',
  ]);
  assert.deepEqual(evidenceLines({ "lb+x": ["a 1", "b 2"] }), ["- lb+x: a 1; b 2"]);
});

Deno.test("textBody: 16 KiB of lines, the same every time, compressible like prose", async () => {
  const text = textBody();
  assert.equal(new TextEncoder().encode(text).byteLength, TEXT_BODY_BYTES);
  assert.equal(text, textBody());
  assert.ok(text.endsWith("\n"));
  assert.ok(text.split("\n").every((line) => line.length <= 72));
  const gz = await new Response(
    new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  const ratio = TEXT_BODY_BYTES / gz.byteLength;
  assert.ok(ratio > 2 && ratio < 10, `gzip ratio ${ratio.toFixed(1)}`);
});

Deno.test("deno_backend: /text, /auth and /v1/traces as the NGINX backends answer them", async () => {
  const text = await handle(new Request("http://b/text"));
  assert.equal(text.headers.get("content-type"), "text/plain");
  assert.equal((await text.bytes()).byteLength, TEXT_BODY_BYTES);
  const auth = await handle(new Request("http://b/auth"));
  assert.equal(auth.status, 204);
  assert.equal(auth.headers.get("x-auth-user"), "bench");
  const otlp = await handle(
    new Request("http://b/v1/traces", { method: "POST", body: "x".repeat(100_000) }),
  );
  assert.equal(otlp.status, 200);
  assert.equal(await otlp.text(), "{}");
});

const nginx = findExecutable("nginx");

Deno.test({
  name: "NGINX backends: /text, /auth and /v1/traces (read whole, then {})",
  ignore: !nginx,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-policies-" });
    await Deno.chmod(dir, 0o755);
    const procs = new Processes();
    try {
      const backends = await startBackends({ procs, tmp: dir, root: Deno.cwd(), nginx }, "nginx");
      const origin = `http://${backends.addrs[0]}`;
      const text = await fetch(`${origin}/text`);
      assert.equal(text.headers.get("content-type"), "text/plain");
      assert.equal(await text.text(), textBody());
      const auth = await fetch(`${origin}/auth`);
      assert.equal(auth.status, 204);
      assert.equal(auth.headers.get("x-auth-user"), "bench");
      await auth.body?.cancel();
      const otlp = await fetch(`${origin}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(1_000_000),
      });
      assert.equal(otlp.status, 200);
      assert.equal(otlp.headers.get("content-type"), "application/json");
      assert.equal(await otlp.text(), "{}");
      // The sink stays the same for /upload.
      assert.match(
        nginxBackendConfig({ prefix: "p", root: "r", ports: [1], sinkPort: 2, drainPort: 3 }),
        /location = \/upload \{[^}]*proxy_pass http:\/\/upload_sink\/sink;/,
      );
    } finally {
      await procs.stopAll();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("respCommand and redisArgs", () => {
  assert.equal(respCommand(["PING"]), "*1\r\n$4\r\nPING\r\n");
  assert.equal(respCommand(["SET", "k", "é"]), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
  const args = redisArgs(6390, "/tmp/r");
  assert.deepEqual(args.slice(0, 4), ["--port", "6390", "--bind", "127.0.0.1"]);
  assert.deepEqual(args.slice(4, 8), ["--save", "", "--appendonly", "no"]);
});

Deno.test({
  name: "startRedis: a real redis-server on a free loopback port, empty, stopped with the rest",
  ignore: !findExecutable("redis-server"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-redis-" });
    const procs = new Processes();
    try {
      const redis = await startRedis({ procs, tmp: dir, root: Deno.cwd() });
      assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await redisKeys(redis.port), 0);
    } finally {
      await procs.stopAll();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "startPolicyTargets: real lbs start with their config, policies in force; a bad one is skipped",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-policy-targets-" });
    await Deno.chmod(dir, 0o755);
    const procs = new Processes();
    const env = { procs, tmp: dir, root: Deno.cwd(), nginx };
    try {
      const backends = await startBackends(env, nginx ? "nginx" : "deno");
      const names = findExecutable("redis-server")
        ? ["basic-auth", "rate-limit-redis"] as const
        : ["basic-auth"] as const;
      const skipped: Record<string, string> = {};
      const targets = await startPolicyTargets(names, env, backends, skipped);
      assert.deepEqual(skipped, {});
      assert.deepEqual(targets.map((t) => t.name), names.map((n) => `lb+${n}`));
      const auth = targets[0];
      assert.deepEqual(auth.headers, [AUTHORIZATION_LINE]);
      // Without the credentials wrk sends, the policy answers: it is really on.
      const denied = await fetch(`http://127.0.0.1:${auth.port}/`);
      assert.equal(denied.status, 401);
      await denied.body?.cancel();
      const evidence = await policyEvidence(targets, env);
      assert.deepEqual(Object.keys(evidence), targets.map((t) => t.name));
      // An lb that exits on its command line (here a bad backend) is skipped with its own message.
      const bad = await startPolicyTargets(["ip"], env, { kind: "deno", addrs: ["x:y"] }, skipped);
      assert.deepEqual(bad, []);
      assert.match(skipped["lb+ip"], /--backends: "http:\/\/x:y" is not an http URL/);
    } finally {
      await procs.stopAll();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("noteWarmup: a warm-up run's errors are kept by case and target, none when clean", () => {
  const outcome = { runs: [], skipped: {}, skippedCases: {}, warmupErrors: {}, interrupted: false };
  const wrk = (extra: string) =>
    `Running 1s test @ http://127.0.0.1:1/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.00ms    1.00ms  20.00ms   90.00%
  Latency Distribution
     50%    5.00ms
     75%    6.00ms
     90%    7.00ms
     99%   10.00ms
  12000 requests in 1.00s, 2.00MB read
${extra}Requests/sec:  12000.00
Transfer/sec:      2.00MB
`;
  noteWarmup(outcome, "small lb+ip", wrk(""));
  noteWarmup(outcome, "small lb+basic-auth", wrk("  Non-2xx or 3xx responses: 1814\n"));
  noteWarmup(outcome, "small lb+x", "wrk: could not connect");
  assert.deepEqual(outcome.warmupErrors, { "small lb+basic-auth": 1814 });
});
