import assert from "node:assert/strict";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { DEFAULT_BACKENDS } from "../../lib/config/options.ts";
import { DEFAULT_JSON_FIELDS } from "../../lib/core/access_record.ts";
import type { LbConfig } from "../../lib/config/types.ts";
import { config, GENERATED, pool, problems } from "./_config.ts";

// --- defaults ---------------------------------------------------------------

Deno.test("parseLbArgs: defaults are one pool `default` and one match-all route to it", () => {
  const c = config([]);
  assert.equal(c.pools.length, 1);
  assert.deepEqual(c.routes, [
    { name: "default", match: {}, target: { kind: "pool", pool: "default" } },
  ]);
  const { pools: [p], routes: _, settings: __, ...global } = c;
  assert.deepEqual(global, {
    host: "0.0.0.0",
    port: 8080,
    adminHost: "127.0.0.1",
    adminPort: 9901,
    trustProxy: [],
    logLevel: "info",
    logFormat: "text",
    accessLog: false,
    accessLogOutput: { format: "log", fields: DEFAULT_JSON_FIELDS, template: "", file: undefined },
    workers: 1,
    shutdownDelayMs: 0,
    shutdownTimeoutMs: 30_000,
    front: {
      name: "h1",
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      bodyTimeoutMs: 60_000,
      maxClientConnections: 0,
      proxyProtocol: false,
    },
    tls: { certFile: undefined, keyFile: undefined },
    websocket: { idleTimeoutMs: 300_000, maxBufferedBytes: 1_048_576 },
    configFile: undefined,
    adminToken: undefined,
    noRouteStatus: 404,
    mirrorMaxInFlight: 100,
    generatedStickySecret: GENERATED,
  });
  assert.deepEqual(p, {
    name: "default",
    backends: [
      { origin: "http://localhost:8081", hostname: "localhost", port: 8081, weight: 1, tls: false },
      { origin: "http://localhost:8082", hostname: "localhost", port: 8082, weight: 1, tls: false },
      { origin: "http://localhost:8083", hostname: "localhost", port: 8083, weight: 1, tls: false },
    ],
    strategy: "round-robin",
    transport: "h1",
    health: {
      intervalMs: 5000,
      timeoutMs: 1000,
      rise: 2,
      fall: 3,
      downIntervalMs: 1000,
      http: undefined,
    },
    connectTimeoutMs: 5000,
    responseTimeoutMs: 60_000,
    idleTimeoutMs: 30_000,
    retries: 2,
    balancing: {
      hashKey: { kind: "client-ip" },
      stickyCookieName: "lb_sticky",
      stickySecret: GENERATED,
      stickySecretGenerated: true,
      ewmaDecayMs: 10_000,
      slowStartMs: 0,
    },
    outlier: { consecutiveErrors: 5, on5xx: false, baseEjectionMs: 30_000, maxEjectionPercent: 50 },
    retry: { budgetPercent: 20, budgetMinPerSecond: 10, tryTimeoutMs: 60_000, bufferBytes: 65_536 },
    limits: { maxPerBackend: 0, queueTimeoutMs: 1000, upstreamConnections: 128 },
    discovery: { targets: [], intervalMs: 10_000, dnsServer: undefined },
    backendCaFile: undefined,
  });
});

Deno.test("parseLbArgs: the default secret is a random UUID when none is injected", () => {
  const command = parseLbArgs([], {});
  assert.equal(command.kind, "run");
  const c = (command as { config: LbConfig }).config;
  assert.match(c.generatedStickySecret, /^[0-9a-f-]{36}$/);
  assert.equal(c.pools[0].balancing.stickySecret, c.generatedStickySecret);
});

Deno.test("DEFAULT_BACKENDS are the three seed backends", () => {
  assert.equal(
    DEFAULT_BACKENDS,
    "http://localhost:8081,http://localhost:8082,http://localhost:8083",
  );
});

// --- environment and flags --------------------------------------------------

const ENV = {
  PROXY_PORT: "9000",
  PROXY_HOST: "127.0.0.2",
  BACKENDS: "http://10.0.0.1:81,10.0.0.2:82",
  LB_STRATEGY: "round-robin",
  ADMIN_PORT: "9999",
  ADMIN_HOST: "::1",
  LOG_LEVEL: "debug",
};

Deno.test("parseLbArgs reads every environment variable", () => {
  const c = config([], ENV);
  assert.equal(c.port, 9000);
  assert.equal(c.host, "127.0.0.2");
  assert.deepEqual(c.pools[0].backends.map((b) => b.origin), [
    "http://10.0.0.1:81",
    "http://10.0.0.2:82",
  ]);
  assert.equal(c.pools[0].strategy, "round-robin");
  assert.equal(c.adminPort, 9999);
  assert.equal(c.adminHost, "::1");
  assert.equal(c.logLevel, "debug");
});

Deno.test("parseLbArgs: flags override environment variables", () => {
  const c = config([
    "--port=7000",
    "--host=127.0.0.3",
    "--backends=http://10.0.0.9:89",
    "--strategy=round-robin",
    "--admin-port=7001",
    "--admin-host=127.0.0.4",
    "--log-level=error",
  ], ENV);
  assert.equal(c.port, 7000);
  assert.equal(c.host, "127.0.0.3");
  assert.deepEqual(c.pools[0].backends.map((b) => b.origin), ["http://10.0.0.9:89"]);
  assert.equal(c.adminPort, 7001);
  assert.equal(c.adminHost, "127.0.0.4");
  assert.equal(c.logLevel, "error");
});

Deno.test("parseLbArgs: empty environment variables are ignored", () => {
  const empty = Object.fromEntries(Object.keys(ENV).map((k) => [k, ""]));
  assert.deepEqual(config([], empty), config([]));
});

Deno.test("parseLbArgs: an invalid environment variable names the flag it stands for", () => {
  assert.deepEqual(problems([], { PROXY_PORT: "http" }), [
    '--port: "http" is not a port (expected 0-65535)',
  ]);
  assert.deepEqual(problems([], { LOG_LEVEL: "loud" }), [
    '--log-level: "loud" is not one of debug, info, warning, error',
  ]);
});

Deno.test("parseLbArgs reads every non-environment flag", () => {
  const c = config([
    "--no-route-status=421",
    "--mirror-max-in-flight=0",
    "--transport=node-http",
    "--health-interval=2s",
    "--health-timeout=500ms",
    "--health-rise=1",
    "--health-fall=5",
    "--connect-timeout=1s",
    "--response-timeout=2m",
    "--idle-timeout=10s",
    "--retries=0",
    "--shutdown-delay=3s",
    "--shutdown-timeout=1m",
    "--trust-proxy=10.0.0.0/8, ::1",
    "--log-format=json",
    "--access-log",
  ]);
  const [p] = c.pools;
  assert.equal(p.transport, "node-http");
  assert.equal(c.noRouteStatus, 421);
  assert.equal(c.mirrorMaxInFlight, 0);
  assert.deepEqual(p.health, {
    intervalMs: 2000,
    timeoutMs: 500,
    rise: 1,
    fall: 5,
    downIntervalMs: 1000,
    http: undefined,
  });
  assert.equal(p.connectTimeoutMs, 1000);
  assert.equal(p.responseTimeoutMs, 120_000);
  assert.equal(p.idleTimeoutMs, 10_000);
  assert.equal(p.retries, 0);
  assert.equal(c.shutdownDelayMs, 3000);
  assert.equal(c.shutdownTimeoutMs, 60_000);
  assert.deepEqual(c.trustProxy.map((r) => r.text), ["10.0.0.0/8", "::1"]);
  assert.equal(c.logFormat, "json");
  assert.equal(c.accessLog, true);
});

Deno.test("parseLbArgs: port 0 (any free port) is accepted", () => {
  assert.equal(config(["--port", "0"]).port, 0);
});

// --- backends ---------------------------------------------------------------

const BACKENDS: { input: string; origin: string; hostname: string; port: number; tls?: true }[] = [
  { input: "127.0.0.1:8081", origin: "http://127.0.0.1:8081", hostname: "127.0.0.1", port: 8081 },
  {
    input: "http://127.0.0.1:8081",
    origin: "http://127.0.0.1:8081",
    hostname: "127.0.0.1",
    port: 8081,
  },
  {
    input: "http://127.0.0.1:8081/",
    origin: "http://127.0.0.1:8081",
    hostname: "127.0.0.1",
    port: 8081,
  },
  {
    input: "HTTP://Example.COM:9",
    origin: "http://example.com:9",
    hostname: "example.com",
    port: 9,
  },
  { input: "http://example.com", origin: "http://example.com", hostname: "example.com", port: 80 },
  {
    input: "http://example.com:80",
    origin: "http://example.com",
    hostname: "example.com",
    port: 80,
  },
  { input: "http://[::1]:8081", origin: "http://[::1]:8081", hostname: "::1", port: 8081 },
  { input: "[::1]:8081", origin: "http://[::1]:8081", hostname: "::1", port: 8081 },
  // HTTPS: default port 443, left out of the origin like 80 for http.
  {
    input: "https://a.example",
    origin: "https://a.example",
    hostname: "a.example",
    port: 443,
    tls: true,
  },
  {
    input: "HTTPS://A.example:443",
    origin: "https://a.example",
    hostname: "a.example",
    port: 443,
    tls: true,
  },
  {
    input: "https://a.example:8443",
    origin: "https://a.example:8443",
    hostname: "a.example",
    port: 8443,
    tls: true,
  },
  {
    input: "https://[::1]:8443",
    origin: "https://[::1]:8443",
    hostname: "::1",
    port: 8443,
    tls: true,
  },
];

for (const { input, ...expected } of BACKENDS) {
  Deno.test(`parseLbArgs: backend ${input} → ${expected.origin}`, () => {
    assert.deepEqual(pool(["--backends", input]).backends, [
      { tls: false, ...expected, weight: 1 },
    ]);
  });
}

Deno.test("parseLbArgs: http and https to the same host and port are two backends", () => {
  const c = pool(["--backends", "http://a:8443,https://a:8443"]);
  assert.deepEqual(c.backends.map((b) => [b.origin, b.tls]), [
    ["http://a:8443", false],
    ["https://a:8443", true],
  ]);
});

Deno.test("parseLbArgs: backends keep their order; spaces and empty items are ignored", () => {
  const c = pool(["--backends", " b:2 , ,a:1,"]);
  assert.deepEqual(c.backends.map((b) => b.origin), ["http://b:2", "http://a:1"]);
});

// --- problems ---------------------------------------------------------------

/** One bad input per row: the flag it is reported under and text the message must contain. */
const BAD: { args: string[]; flag: string; contains: string }[] = [
  { args: ["--health-interval", "5"], flag: "health-interval", contains: '"5"' },
  { args: ["--health-interval", "0"], flag: "health-interval", contains: "greater than 0" },
  { args: ["--health-timeout", "soon"], flag: "health-timeout", contains: '"soon"' },
  { args: ["--health-rise", "0"], flag: "health-rise", contains: '"0"' },
  { args: ["--health-fall", "101"], flag: "health-fall", contains: '"101"' },
  { args: ["--connect-timeout", "0s"], flag: "connect-timeout", contains: '"0s"' },
  { args: ["--response-timeout", "1d"], flag: "response-timeout", contains: '"1d"' },
  { args: ["--idle-timeout", "0ms"], flag: "idle-timeout", contains: '"0ms"' },
  { args: ["--retries", "11"], flag: "retries", contains: '"11"' },
  { args: ["--shutdown-delay=-1s"], flag: "shutdown-delay", contains: '"-1s"' },
  { args: ["--shutdown-timeout", "x"], flag: "shutdown-timeout", contains: '"x"' },
  { args: ["--port", "70000"], flag: "port", contains: '"70000"' },
  { args: ["--admin-port=-1"], flag: "admin-port", contains: '"-1"' },
  { args: ["--host", " "], flag: "host", contains: "must not be empty" },
  { args: ["--admin-host", ""], flag: "admin-host", contains: "must not be empty" },
  { args: ["--backends", "ftp://x"], flag: "backends", contains: '"ftp://x"' },
  { args: ["--backends", "https://x/p"], flag: "backends", contains: '"https://x/p"' },
  { args: ["--backends", "https://x:0"], flag: "backends", contains: '"https://x:0"' },
  { args: ["--backends", "http://a:1/x"], flag: "backends", contains: '"http://a:1/x"' },
  { args: ["--backends", "http://a:1?q"], flag: "backends", contains: '"http://a:1?q"' },
  { args: ["--backends", "http://u:p@a:1"], flag: "backends", contains: '"http://u:p@a:1"' },
  { args: ["--backends", "http://a:0"], flag: "backends", contains: '"http://a:0"' },
  { args: ["--backends", "a:70000"], flag: "backends", contains: '"a:70000"' },
  { args: ["--backends", "a:1,http://a:1"], flag: "backends", contains: '"http://a:1"' },
  { args: ["--backends", ""], flag: "backends", contains: "no backends" },
  { args: ["--backends", " , "], flag: "backends", contains: "no backends" },
  { args: ["--trust-proxy", "10.0.0.0/33"], flag: "trust-proxy", contains: '"10.0.0.0/33"' },
  { args: ["--trust-proxy", "10.0.0.0/8,bogus"], flag: "trust-proxy", contains: '"bogus"' },
  { args: ["--strategy", "random-ish"], flag: "strategy", contains: '"random-ish"' },
  { args: ["--transport", "curl"], flag: "transport", contains: '"curl"' },
  { args: ["--log-level", "verbose"], flag: "log-level", contains: '"verbose"' },
  { args: ["--log-format", "xml"], flag: "log-format", contains: '"xml"' },
  { args: ["--no-route-status", "200"], flag: "no-route-status", contains: "from 400 to 599" },
  { args: ["--no-route-status", "600"], flag: "no-route-status", contains: '"600"' },
  {
    args: ["--mirror-max-in-flight", "100001"],
    flag: "mirror-max-in-flight",
    contains: '"100001"',
  },
  { args: ["--mirror-max-in-flight=-1"], flag: "mirror-max-in-flight", contains: `"-1"` },
  {
    args: ["--port", "9901", "--host", "127.0.0.1"],
    flag: "admin-port",
    contains: "9901",
  },
];

for (const { args, flag, contains } of BAD) {
  Deno.test(`parseLbArgs: ${args.join(" ")} → one problem naming --${flag}`, () => {
    const list = problems(args);
    assert.equal(list.length, 1, list.join("\n"));
    assert.ok(list[0].startsWith(`--${flag}: `), list[0]);
    assert.ok(list[0].includes(contains), list[0]);
  });
}

Deno.test("parseLbArgs: other schemes are refused, naming the scheme and the ones supported", () => {
  const [problem] = problems(["--backends", "ws://x"]);
  assert.match(problem, /ws:/);
  assert.match(problem, /not supported; expected http or https/);
});

// Regression test for a fixed bug (lib/config.ts:150): the port clash check compares host strings
// literally, so `--port 9901` with the default --host 0.0.0.0 and the default
// admin listener 127.0.0.1:9901 passes validation, yet the two listeners can't
// both bind (the wildcard address covers 127.0.0.1; Deno.listen/Deno.serve
// fail with AddrInUse, os error 98, on Linux). Expected a UsageError naming
// --admin-port; actual: a "run" command and a bind failure at startup.
Deno.test({
  name: "parseLbArgs: the admin port clashes with --port when --host is the wildcard address",
  fn() {
    const [problem] = problems(["--port", "9901"]);
    assert.ok(problem.startsWith("--admin-port: "), problem);
  },
});

Deno.test("parseLbArgs: the same port on different hosts is not a conflict", () => {
  const c = config(["--port", "9901", "--host", "127.0.0.1", "--admin-host", "::1"]);
  assert.equal(c.port, 9901);
  assert.equal(c.adminPort, 9901);
});

Deno.test("parseLbArgs reports every bad input together, each naming its flag and value", () => {
  const list = problems([
    "--health-interval=5",
    "--port=70000",
    "--backends=ftp://x,https://x/p,http://a:1/x,b:2,http://b:2",
    "--trust-proxy=10.0.0.0/33",
    "--strategy=fastest",
    "--log-level=loud",
  ]);
  const expected: [string, string][] = [
    ["health-interval", '"5"'],
    ["port", '"70000"'],
    ["backends", '"ftp://x"'],
    ["backends", '"https://x/p"'],
    ["backends", '"http://a:1/x"'],
    ["backends", '"http://b:2"'],
    ["strategy", '"fastest"'],
    ["trust-proxy", '"10.0.0.0/33"'],
    ["log-level", '"loud"'],
  ];
  assert.equal(list.length, expected.length, list.join("\n"));
  for (const [flag, value] of expected) {
    assert.ok(
      list.some((p) => p.startsWith(`--${flag}: `) && p.includes(value)),
      `no problem for --${flag} with ${value} in:\n${list.join("\n")}`,
    );
  }
  for (const p of list) assert.match(p, /^--[a-z-]+: /);
});

Deno.test("parseLbArgs: an empty backend list is reported with the other problems", () => {
  const list = problems(["--backends=", "--port=x", "--strategy=y"]);
  assert.deepEqual(list.map((p) => p.split(":")[0]).sort(), ["--backends", "--port", "--strategy"]);
});

Deno.test("parseLbArgs: flag syntax errors are UsageErrors too", () => {
  assert.deepEqual(problems(["--nope"]), ["--nope: unknown flag (see --help)"]);
  assert.deepEqual(problems(["--port"]), ["--port: needs a value"]);
  assert.deepEqual(problems(["8080"]), ['unexpected argument "8080" (flags start with --)']);
});

// --- help and version -------------------------------------------------------

Deno.test("parseLbArgs: --help and -h return the help command", () => {
  assert.deepEqual(parseLbArgs(["--help"], {}), { kind: "help" });
  assert.deepEqual(parseLbArgs(["-h"], {}), { kind: "help" });
});

Deno.test("parseLbArgs: --version returns the version command", () => {
  assert.deepEqual(parseLbArgs(["--version"], {}), { kind: "version" });
});

Deno.test("parseLbArgs: --help wins over values that would be invalid", () => {
  assert.deepEqual(parseLbArgs(["--port", "70000", "--help"], { BACKENDS: "ftp://x" }), {
    kind: "help",
  });
});
