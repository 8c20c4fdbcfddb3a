import assert from "node:assert/strict";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { parseSize } from "../../lib/config/kinds.ts";
import type { PoolConfig } from "../../lib/config/types.ts";
import { GENERATED, pool, problems } from "./_config.ts";

/** The single pool of a valid command line. */
const config: (args: string[], env?: Record<string, string>) => PoolConfig = pool;

/** Asserts that `args` fail with exactly one problem, about `flag`. */
function rejects(args: string[], flag: string): void {
  const list = problems(args);
  assert.equal(list.length, 1, `${args.join(" ")}: ${list.join(" | ")}`);
  assert.ok(list[0].startsWith(`--${flag}: `), `${args.join(" ")}: ${list[0]}`);
}

// --- defaults ---------------------------------------------------------------

Deno.test("policy defaults", () => {
  const c = config([]);
  assert.deepEqual(c.balancing, {
    hashKey: { kind: "client-ip" },
    stickyCookieName: "lb_sticky",
    stickySecret: GENERATED,
    stickySecretGenerated: true,
    ewmaDecayMs: 10_000,
    slowStartMs: 0,
  });
  assert.equal(c.health.http, undefined);
  assert.deepEqual(c.outlier, {
    consecutiveErrors: 5,
    on5xx: false,
    baseEjectionMs: 30_000,
    maxEjectionPercent: 50,
  });
  assert.deepEqual(c.retry, {
    budgetPercent: 20,
    budgetMinPerSecond: 10,
    tryTimeoutMs: 60_000,
    bufferBytes: 65_536,
  });
  assert.deepEqual(c.limits, { maxPerBackend: 0, queueTimeoutMs: 1_000, upstreamConnections: 128 });
  assert.equal(c.health.downIntervalMs, 1_000);
});

Deno.test("policy defaults: the default secret comes from the injected randomSecret, once", () => {
  let calls = 0;
  const command = parseLbArgs([], {}, () => `s${++calls}`);
  assert.ok(command.kind === "run");
  assert.equal(command.config.pools[0].balancing.stickySecret, "s1");
  assert.equal(command.config.generatedStickySecret, "s1");
  assert.equal(calls, 1);
});

Deno.test("policy defaults: try-timeout follows --response-timeout", () => {
  assert.equal(config(["--response-timeout", "7s"]).retry.tryTimeoutMs, 7_000);
});

Deno.test("policy defaults: health-down-interval is min(health-interval, 1s)", () => {
  assert.equal(config([]).health.downIntervalMs, 1_000);
  assert.equal(config(["--health-interval", "2s"]).health.downIntervalMs, 1_000);
  assert.equal(config(["--health-interval", "1s"]).health.downIntervalMs, 1_000);
  assert.equal(config(["--health-interval", "300ms"]).health.downIntervalMs, 300);
});

// --- sticky secret ----------------------------------------------------------

Deno.test("sticky secret: STICKY_SECRET from the environment", () => {
  const c = config([], { STICKY_SECRET: "from-env" });
  assert.equal(c.balancing.stickySecret, "from-env");
  assert.equal(c.balancing.stickySecretGenerated, false);
});

Deno.test("sticky secret: --sticky-secret, which beats STICKY_SECRET", () => {
  for (const env of [{}, { STICKY_SECRET: "from-env" }] as Record<string, string>[]) {
    const c = config(["--sticky-secret", "from-flag"], env);
    assert.equal(c.balancing.stickySecret, "from-flag");
    assert.equal(c.balancing.stickySecretGenerated, false);
  }
});

Deno.test("sticky secret: an empty STICKY_SECRET is ignored", () => {
  const c = config([], { STICKY_SECRET: "" });
  assert.equal(c.balancing.stickySecret, GENERATED);
  assert.equal(c.balancing.stickySecretGenerated, true);
});

// Regression test for a fixed bug (lib/config_policy.ts:135-140): with `--sticky-secret ""` and
// STICKY_SECRET=from-env, the secret used is STICKY_SECRET's (the
// `|| (env.STICKY_SECRET ?? "")` fallback), but stickySecretGenerated is true
// because it only looks at the flag's value, so lb.ts:70 warns that the secret
// was generated when it wasn't. Expected: stickySecretGenerated is true exactly
// when randomSecret() supplied the secret (or an empty flag is a usage error).
Deno.test({
  name: "sticky secret: stickySecretGenerated says whether the secret was generated",
  fn: () => {
    const c = config(["--sticky-secret", ""], { STICKY_SECRET: "from-env" });
    assert.equal(c.balancing.stickySecret, "from-env");
    assert.equal(c.balancing.stickySecretGenerated, false);
  },
});

// --- every flag -------------------------------------------------------------

Deno.test("every policy flag is parsed", () => {
  const c = config([
    "--hash-key",
    "cookie:sid",
    "--sticky-cookie",
    "route",
    "--sticky-secret",
    "s3cret",
    "--ewma-decay",
    "2s",
    "--slow-start",
    "30s",
    "--health-path",
    "/readyz?full=1",
    "--health-host",
    "svc.internal",
    "--health-status",
    "200-299",
    "--health-down-interval",
    "250ms",
    "--eject-after",
    "7",
    "--eject-on-5xx",
    "--eject-time",
    "1m",
    "--max-ejection-percent",
    "30",
    "--retry-budget",
    "35",
    "--retry-budget-min",
    "3",
    "--try-timeout",
    "2500ms",
    "--retry-buffer",
    "1MiB",
    "--max-connections-per-backend",
    "64",
    "--queue-timeout",
    "750ms",
  ]);
  assert.deepEqual(c.balancing, {
    hashKey: { kind: "cookie", name: "sid" },
    stickyCookieName: "route",
    stickySecret: "s3cret",
    stickySecretGenerated: false,
    ewmaDecayMs: 2_000,
    slowStartMs: 30_000,
  });
  assert.deepEqual(c.health.http, {
    path: "/readyz?full=1",
    host: "svc.internal",
    statusMin: 200,
    statusMax: 299,
  });
  assert.equal(c.health.downIntervalMs, 250);
  assert.deepEqual(c.outlier, {
    consecutiveErrors: 7,
    on5xx: true,
    baseEjectionMs: 60_000,
    maxEjectionPercent: 30,
  });
  assert.deepEqual(c.retry, {
    budgetPercent: 35,
    budgetMinPerSecond: 3,
    tryTimeoutMs: 2_500,
    bufferBytes: 1024 * 1024,
  });
  assert.deepEqual(c.limits, { maxPerBackend: 64, queueTimeoutMs: 750, upstreamConnections: 128 });
});

Deno.test("--hash-key: each kind", () => {
  const key = (raw: string) => config(["--hash-key", raw]).balancing.hashKey;
  assert.deepEqual(key("client-ip"), { kind: "client-ip" });
  assert.deepEqual(key("path"), { kind: "path" });
  // Header names are case-insensitive, so they are lower-cased; cookie names are not.
  assert.deepEqual(key("header:X-User"), { kind: "header", name: "x-user" });
  assert.deepEqual(key("cookie:SessionID"), { kind: "cookie", name: "SessionID" });
});

Deno.test("--health-path: HTTP checks with the default status range and no Host", () => {
  assert.deepEqual(config(["--health-path", "/readyz"]).health.http, {
    path: "/readyz",
    host: undefined,
    statusMin: 200,
    statusMax: 399,
  });
});

Deno.test("--health-status: one status is a range of one", () => {
  const http = config(["--health-path", "/h", "--health-status", "204"]).health.http!;
  assert.equal(http.statusMin, 204);
  assert.equal(http.statusMax, 204);
});

Deno.test("--eject-after 0 (off), --max-ejection-percent 0 and 100, --retry-budget 0", () => {
  const c = config([
    "--eject-after",
    "0",
    "--max-ejection-percent",
    "100",
    "--retry-budget",
    "0",
    "--retry-budget-min",
    "0",
  ]);
  assert.equal(c.outlier.consecutiveErrors, 0);
  assert.equal(c.outlier.maxEjectionPercent, 100);
  assert.equal(c.retry.budgetPercent, 0);
  assert.equal(c.retry.budgetMinPerSecond, 0);
  assert.equal(config(["--max-ejection-percent", "0"]).outlier.maxEjectionPercent, 0);
});

Deno.test("--retry-buffer: units and 0", () => {
  const size = (raw: string) => config(["--retry-buffer", raw]).retry.bufferBytes;
  assert.equal(size("0"), 0);
  assert.equal(size("512"), 512);
  assert.equal(size("64KiB"), 65_536);
  assert.equal(size("64MiB"), 64 * 1024 * 1024);
  assert.equal(size("10KB"), 10_000);
});

// --- bad inputs -------------------------------------------------------------

const BAD: { args: string[]; flag: string }[] = [
  { args: ["--hash-key", "header:"], flag: "hash-key" },
  { args: ["--hash-key", "cookie:"], flag: "hash-key" },
  { args: ["--hash-key", "bogus"], flag: "hash-key" },
  { args: ["--hash-key", "header:a b"], flag: "hash-key" },
  { args: ["--hash-key", ""], flag: "hash-key" },
  { args: ["--sticky-cookie", "a;b"], flag: "sticky-cookie" },
  { args: ["--sticky-cookie", ""], flag: "sticky-cookie" },
  { args: ["--health-status", "99"], flag: "health-status" },
  { args: ["--health-status", "600"], flag: "health-status" },
  { args: ["--health-status", "500-200"], flag: "health-status" },
  { args: ["--health-status", "2xx"], flag: "health-status" },
  { args: ["--health-path", "/h", "--health-status", "99"], flag: "health-status" },
  { args: ["--health-path", "readyz"], flag: "health-path" },
  { args: ["--health-path", "/a b"], flag: "health-path" },
  { args: ["--retry-buffer", "1GiB"], flag: "retry-buffer" },
  { args: ["--retry-buffer", "x"], flag: "retry-buffer" },
  { args: ["--retry-buffer", "65MiB"], flag: "retry-buffer" },
  { args: ["--retry-buffer", "-1"], flag: "retry-buffer" },
  { args: ["--eject-after", "-1"], flag: "eject-after" },
  { args: ["--eject-after", "x"], flag: "eject-after" },
  { args: ["--eject-after", "1001"], flag: "eject-after" },
  { args: ["--max-ejection-percent", "101"], flag: "max-ejection-percent" },
  { args: ["--max-ejection-percent", "50%"], flag: "max-ejection-percent" },
  { args: ["--retry-budget", "101"], flag: "retry-budget" },
  { args: ["--retry-budget-min", "-1"], flag: "retry-budget-min" },
  { args: ["--max-connections-per-backend", "-1"], flag: "max-connections-per-backend" },
  { args: ["--max-connections-per-backend", "1.5"], flag: "max-connections-per-backend" },
  { args: ["--slow-start", "-1s"], flag: "slow-start" },
  { args: ["--slow-start", "10"], flag: "slow-start" },
];
for (
  const positive of [
    "ewma-decay",
    "eject-time",
    "try-timeout",
    "queue-timeout",
    "health-down-interval",
  ]
) {
  for (const raw of ["0", "0s", "0ms", "-1s", "soon"]) {
    BAD.push({ args: [`--${positive}`, raw], flag: positive });
  }
}

for (const { args, flag } of BAD) {
  Deno.test(`bad input ${JSON.stringify(args.join(" "))} names --${flag}`, () => {
    rejects(args, flag);
  });
}

Deno.test("bad inputs: every problem is reported at once", () => {
  const list = problems([
    "--hash-key",
    "bogus",
    "--retry-buffer",
    "1GiB",
    "--queue-timeout",
    "0s",
    "--health-path",
    "readyz",
  ]);
  assert.deepEqual(list.map((p) => p.slice(0, p.indexOf(":"))).sort(), [
    "--hash-key",
    "--health-path",
    "--queue-timeout",
    "--retry-buffer",
  ]);
});

Deno.test("bad inputs: the message quotes the value and says what was expected", () => {
  assert.deepEqual(problems(["--hash-key", "bogus"]), [
    `--hash-key: "bogus" is not one of client-ip, path, header:NAME, cookie:NAME`,
  ]);
  assert.deepEqual(problems(["--queue-timeout", "0s"]), [
    `--queue-timeout: "0s" must be greater than 0`,
  ]);
});

// --- backend weights --------------------------------------------------------

Deno.test("--backends: `=N` sets a weight, 1 by default", () => {
  const c = config(["--backends", "http://a:1=3,http://b:2"]);
  assert.deepEqual(c.backends, [
    { origin: "http://a:1", hostname: "a", port: 1, weight: 3, tls: false },
    { origin: "http://b:2", hostname: "b", port: 2, weight: 1, tls: false },
  ]);
});

Deno.test("--backends: weights 1 and 1000 are the bounds; bare host:port and IPv6 take weights", () => {
  const c = config(["--backends", "a:1=1,http://b:2=1000,[::1]:3=7"]);
  assert.deepEqual(c.backends.map((b) => [b.origin, b.weight]), [
    ["http://a:1", 1],
    ["http://b:2", 1000],
    ["http://[::1]:3", 7],
  ]);
});

for (const bad of ["=0", "=1001", "=x", "=", "=-1", "=1.5", "=01000"]) {
  Deno.test(`--backends: weight "${bad}" is rejected naming --backends`, () => {
    const list = problems(["--backends", `http://a:1${bad},http://b:2`]);
    assert.equal(list.length, 1, list.join(" | "));
    assert.ok(list[0].startsWith("--backends: "), list[0]);
    assert.ok(list[0].includes(`"http://a:1${bad}"`), list[0]);
  });
}

// --- parseSize --------------------------------------------------------------

Deno.test("parseSize: bytes and binary and decimal units", () => {
  assert.equal(parseSize("0"), 0);
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("512B"), 512);
  assert.equal(parseSize("64KiB"), 65_536);
  assert.equal(parseSize("1MiB"), 1_048_576);
  assert.equal(parseSize("10KB"), 10_000);
  assert.equal(parseSize("2MB"), 2_000_000);
  assert.equal(parseSize(" 64KiB "), 65_536);
});

Deno.test("parseSize: anything else is undefined", () => {
  for (const bad of ["", "x", "1GiB", "-1", "1.5MiB", "64 KiB", "64kib", "KiB", "0x10"]) {
    assert.equal(parseSize(bad), undefined, bad);
  }
});
