/**
 * Pools in the config file: the whole config they parse to (YAML and
 * JSON), the single-pool config they replace, precedence of pool options,
 * the generated sticky secret, and every pool problem.
 */

import assert from "node:assert/strict";
import { describeConfig } from "../../lib/config/describe.ts";
import type { LbConfig, PoolConfig } from "../../lib/config/types.ts";
import { config, configOf, GENERATED, yamlConfig, yamlProblems } from "./_config.ts";

const YAML = `
retries: 1 # inherited by every pool
health-path: /readyz
pools:
  web:
    backends:
      - http://10.0.0.1:80
      - { url: "10.0.0.2:80", weight: 3, metadata: { zone: b } }
  api:
    discover: dns:api.internal:8080
    strategy: p2c-ewma
    retries: 0
  shadow:
    backends: 10.0.0.9:80
routes:
  - name: api
    match: { host: [API.Example.com, "*.api.example.com."], path-prefix: /v1, method: [get, POST] }
    pool: api
    mirror: shadow
    strip-prefix: /v1
    replace-prefix: /internal
  - match:
      headers: { X-Canary: "1" }
      query: { beta: [yes, "true"] }
      path: [/a, /b]
    split: { web: 9, api: 1 }
  - match: {}
    pool: web
`;

const JSON_TEXT = JSON.stringify({
  retries: 1,
  "health-path": "/readyz",
  pools: {
    web: {
      backends: [
        "http://10.0.0.1:80",
        { url: "10.0.0.2:80", weight: 3, metadata: { zone: "b" } },
      ],
    },
    api: { discover: "dns:api.internal:8080", strategy: "p2c-ewma", retries: 0 },
    shadow: { backends: "10.0.0.9:80" },
  },
  routes: [
    {
      name: "api",
      match: {
        host: ["API.Example.com", "*.api.example.com."],
        "path-prefix": "/v1",
        method: ["get", "POST"],
      },
      pool: "api",
      mirror: "shadow",
      "strip-prefix": "/v1",
      "replace-prefix": "/internal",
    },
    {
      match: { headers: { "X-Canary": "1" }, query: { beta: ["yes", "true"] }, path: ["/a", "/b"] },
      split: { web: 9, api: 1 },
    },
    { match: {}, pool: "web" },
  ],
});

const ROUTES: LbConfig["routes"] = [
  {
    name: "api",
    match: {
      hosts: ["api.example.com", "*.api.example.com"],
      pathPrefixes: ["/v1"],
      methods: ["GET", "POST"],
    },
    target: { kind: "pool", pool: "api" },
    mirror: "shadow",
    stripPrefix: "/v1",
    replacePrefix: "/internal",
  },
  {
    name: "route-2",
    match: {
      paths: ["/a", "/b"],
      headers: { "x-canary": ["1"] },
      query: { beta: ["yes", "true"] },
    },
    target: { kind: "split", weights: [["web", 9], ["api", 1]] },
  },
  { name: "route-3", match: {}, target: { kind: "pool", pool: "web" } },
];

/** The single-pool defaults, to compare a named pool against. */
function defaults(): Omit<PoolConfig, "name" | "backends" | "discovery"> {
  const { name: _, backends: __, discovery: ___, ...rest } = config([]).pools[0];
  return rest;
}

Deno.test("pools and routes: a YAML file parses to the expected pools and routes", () => {
  const c = yamlConfig(YAML);
  const base = defaults();
  const http = { path: "/readyz", host: undefined, statusMin: 200, statusMax: 399 };
  const discovery = { targets: [], intervalMs: 10_000, dnsServer: undefined };
  assert.deepEqual(c.pools, [
    {
      ...base,
      name: "web",
      backends: [
        { origin: "http://10.0.0.1", hostname: "10.0.0.1", port: 80, weight: 1, tls: false },
        {
          origin: "http://10.0.0.2",
          hostname: "10.0.0.2",
          port: 80,
          weight: 3,
          tls: false,
          metadata: { zone: "b" },
        },
      ],
      discovery,
      retries: 1,
      health: { ...base.health, http },
    },
    {
      ...base,
      name: "api",
      backends: [],
      strategy: "p2c-ewma",
      discovery: { ...discovery, targets: [{ kind: "dns", name: "api.internal", port: 8080 }] },
      retries: 0,
      health: { ...base.health, http },
    },
    {
      ...base,
      name: "shadow",
      backends: [
        { origin: "http://10.0.0.9", hostname: "10.0.0.9", port: 80, weight: 1, tls: false },
      ],
      discovery,
      retries: 1,
      health: { ...base.health, http },
    },
  ]);
  assert.deepEqual(c.routes, ROUTES);
  assert.deepEqual(Object.keys(c.settings), ["", "web", "api", "shadow"]);
  assert.equal(c.settings.api.retries, "0");
  assert.equal(c.settings.web.retries, "1");
  assert.equal(c.settings.api.discover, "dns:api.internal:8080");
});

Deno.test("pools and routes: the same file as JSON parses to the same config", () => {
  assert.deepEqual(configOf({ file: { path: "lb.json", text: JSON_TEXT } }), yamlConfig(YAML));
});

Deno.test("pools and routes: describeConfig summarises pools and routes", () => {
  assert.equal(
    describeConfig(yamlConfig(YAML)),
    "3 pools (web: 2 backends, round-robin; api: discovery dns:api.internal:8080, p2c-ewma; " +
      "shadow: 1 backend, round-robin), 3 routes (api, route-2, route-3)",
  );
  assert.equal(
    describeConfig(config(["--backends", "a:1", "--discover", "srv:_http._tcp.web"])),
    "1 pool (default: 1 backend + discovery srv:_http._tcp.web, round-robin), 1 route (default)",
  );
});

// --- one pool ---------------------------------------------------------------

Deno.test("one pool: a file without pools is pool default and a match-all route, as flags are", () => {
  const fromFile = yamlConfig("backends: [a:1, b:2]\nstrategy: random\nretries: 4\n");
  const fromFlags = config(["--backends", "a:1,b:2", "--strategy", "random", "--retries", "4"]);
  assert.deepEqual(fromFile, fromFlags);
  assert.deepEqual(fromFile.routes, [
    { name: "default", match: {}, target: { kind: "pool", pool: "default" } },
  ]);
  assert.equal(fromFile.pools[0].name, "default");
});

Deno.test("one pool: a file with one pool and no routes gets a match-all route to it", () => {
  const c = yamlConfig("pools:\n  web:\n    backends: a:1\n");
  assert.deepEqual(c.routes, [{
    name: "default",
    match: {},
    target: { kind: "pool", pool: "web" },
  }]);
});

Deno.test("one pool: routes without pools may send to pool default", () => {
  const c = yamlConfig(
    "backends: a:1\nroutes:\n  - { match: { path-prefix: /x }, pool: default }\n",
  );
  assert.deepEqual(c.routes.map((r) => r.target), [{ kind: "pool", pool: "default" }]);
});

// --- precedence -------------------------------------------------------------

Deno.test("precedence for a pool option: the pool's key > flag > env > file top level > default", () => {
  const file = (top: string, own: string) =>
    `${top}pools:\n  a:\n    backends: a:1\n${own}  b:\n    backends: b:1\n` +
    "routes: [{ match: {}, pool: a }]\n";
  const strategies = (args: string[], env: Record<string, string>, top: string, own: string) =>
    yamlConfig(file(top, own), args, env).pools.map((p) => p.strategy);
  const own = "    strategy: random\n";
  const top = "strategy: least-connections\n";
  const flag = ["--strategy", "p2c-ewma"];
  const env = { LB_STRATEGY: "consistent-hash" };
  assert.deepEqual(strategies(flag, env, top, own), ["random", "p2c-ewma"]);
  assert.deepEqual(strategies([], env, top, own), ["random", "consistent-hash"]);
  assert.deepEqual(strategies([], {}, top, own), ["random", "least-connections"]);
  assert.deepEqual(strategies([], {}, "", ""), ["round-robin", "round-robin"]);
});

Deno.test("precedence: derived defaults follow each pool's own values", () => {
  const c = yamlConfig(
    "response-timeout: 7s\npools:\n  a: { backends: a:1, health-interval: 300ms }\n" +
      "  b: { backends: b:1, response-timeout: 3s }\nroutes: [{ match: {}, pool: a }]\n",
  );
  assert.deepEqual(c.pools.map((p) => [p.health.downIntervalMs, p.retry.tryTimeoutMs]), [
    [300, 7000],
    [1000, 3000],
  ]);
});

Deno.test("sticky secret: one generated secret shared by every pool without one", () => {
  const c = yamlConfig(
    "pools:\n  a: { backends: a:1 }\n  b: { backends: b:1, sticky-secret: own-secret }\n" +
      "routes: [{ match: {}, pool: a }]\n",
  );
  assert.equal(c.generatedStickySecret, GENERATED);
  assert.deepEqual(
    c.pools.map((p) => [p.balancing.stickySecret, p.balancing.stickySecretGenerated]),
    [
      [GENERATED, true],
      ["own-secret", false],
    ],
  );
  // Secrets are not settings text.
  assert.deepEqual([c.settings.a["sticky-secret"], c.settings.b["sticky-secret"]], ["", "(set)"]);
});

// --- problems ---------------------------------------------------------------

Deno.test("pool problems: a bad pool value names pools.<name>.<option>", () => {
  assert.deepEqual(
    yamlProblems("pools:\n  api:\n    backends: a:1\n    health-interval: 5x\n"),
    [
      '--config: lb.yaml: pools.api.health-interval: "5x" is not a duration (expected e.g. 500ms, 5s, 1m)',
    ],
  );
});

Deno.test("pool problems: an inherited bad value is reported once, where it was given", () => {
  assert.deepEqual(
    yamlProblems(
      "retries: x\npools:\n  a: { backends: a:1 }\n  b: { backends: b:1 }\n" +
        "routes: [{ match: {}, pool: a }]\n",
    ),
    ['--config: lb.yaml: retries: "x" is not a whole number from 0 to 10'],
  );
});

Deno.test("pool problems: an inherited bad flag is reported once, naming the flag", () => {
  assert.deepEqual(
    yamlProblems(
      "pools:\n  a: { backends: a:1 }\n  b: { backends: b:1 }\nroutes: [{ match: {}, pool: a }]\n",
      ["--health-rise", "0"],
    ),
    ['--health-rise: "0" is not a whole number from 1 to 100'],
  );
});

Deno.test("pool problems: with pools, shared backends and discovery are refused, naming each", () => {
  const problems = yamlProblems(
    "backends: x:1\ndiscover: dns:x\npools:\n  a: { backends: a:1 }\n",
    ["--backends", "y:1", "--discover", "dns:y"],
  );
  const why = "the config file defines pools; give each pool its backends";
  assert.deepEqual(problems, [
    `--backends: ${why}`,
    `--config: lb.yaml: backends: ${why}`,
    `--discover: ${why}`,
    `--config: lb.yaml: discover: ${why}`,
  ]);
  const env = { BACKENDS: "z:1" };
  const fromEnv = configOrProblems("pools:\n  a: { backends: a:1 }\n", env);
  assert.deepEqual(fromEnv, [`--backends: BACKENDS is set, but ${why}`]);
});

function configOrProblems(text: string, env: Record<string, string>): readonly string[] {
  try {
    yamlConfig(text, [], env);
  } catch (err) {
    return (err as { problems: readonly string[] }).problems;
  }
  return [];
}

Deno.test("pool problems: every pool needs backends or discover of its own", () => {
  assert.deepEqual(
    yamlProblems(
      "pools:\n  a: { retries: 1 }\n  b: { backends: '' }\n  c: { backends: c:1 }\n" +
        "routes: [{ match: {}, pool: c }]\n",
    ),
    [
      "--config: lb.yaml: pools.a: needs backends or discover",
      "--config: lb.yaml: pools.b: needs backends or discover",
    ],
  );
});

Deno.test("pool problems: a bad pool backend names the pool", () => {
  assert.deepEqual(yamlProblems("pools:\n  a: { backends: 'ftp://x' }\n"), [
    '--config: lb.yaml: pools.a.backends: "ftp://x" is not an http URL (scheme ftp: is not ' +
    "supported; expected http or https)",
  ]);
});

Deno.test("pool problems: names must be metric-label safe", () => {
  const expected =
    "does not match ^[a-z0-9][a-z0-9_-]{0,62}$ (expected lower-case letters, digits, _ and -, " +
    "starting with a letter or digit, 1-63 long)";
  assert.deepEqual(yamlProblems("pools:\n  Web: { backends: a:1 }\n"), [
    `--config: lb.yaml: pools.Web: "Web" ${expected}`,
  ]);
  assert.deepEqual(yamlProblems(`pools:\n  ${"a".repeat(64)}: { backends: a:1 }\n`).length, 1);
  assert.deepEqual(yamlProblems("pools:\n  -x: { backends: a:1 }\n"), [
    `--config: lb.yaml: pools.-x: "-x" ${expected}`,
  ]);
  assert.deepEqual(yamlProblems("pools: {}\n"), [
    "--config: lb.yaml: pools: needs at least 1 entry(s)",
  ]);
});

Deno.test("pool problems: only pool options may be set per pool", () => {
  assert.deepEqual(yamlProblems("pools:\n  a: { backends: a:1, port: 80 }\n"), [
    "--config: lb.yaml: pools.a.port: unknown setting",
  ]);
});
