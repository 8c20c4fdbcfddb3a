/**
 * The config file layer: JSON and YAML, schema validation, conversion to
 * flag values, precedence (flags > env > file > defaults), metadata.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../lib/config/cli.ts";
import { loadConfigFile, parseConfigFile, YAML_ENV_VARS } from "../../lib/config/file.ts";
import { validate } from "../../lib/config/json_schema.ts";
import { LB_ENV_VARS } from "../../lib/config/parse.ts";
import type { LbConfig } from "../../lib/config/types.ts";
import { configOf, problemsOf } from "./_config.ts";

function run(args: string[], env: Record<string, string>, json: unknown): LbConfig {
  return configOf({ args, env, file: { path: "lb.json", text: JSON.stringify(json) } });
}

function fileProblems(text: string, path = "lb.json"): string[] {
  try {
    parseConfigFile(path, text);
  } catch (err) {
    assert.ok(err instanceof UsageError);
    return [...err.problems];
  }
  return [];
}

// --- the validator ----------------------------------------------------------

Deno.test("validate: types, unknown keys, required, ranges, oneOf", () => {
  const schema = {
    type: "object" as const,
    additionalProperties: false,
    required: ["a"],
    properties: {
      a: { type: "integer" as const, minimum: 1, maximum: 3 },
      b: {
        oneOf: [{ type: "string" as const }, {
          type: "array" as const,
          items: { type: "string" as const },
        }],
      },
    },
  };
  assert.deepEqual(validate(schema, { a: 2, b: ["x"] }), []);
  assert.deepEqual(validate(schema, { a: 2, b: "x" }), []);
  assert.deepEqual(validate(schema, { a: 5 }), ["$.a: must be at most 3"]);
  assert.deepEqual(validate(schema, { b: "x" }), ['$: missing "a"']);
  assert.deepEqual(validate(schema, { a: 1, c: 1 }), ["$.c: unknown setting"]);
  assert.deepEqual(validate(schema, { a: 1.5 }), ["$.a: expected integer, got number"]);
  assert.deepEqual(validate(schema, { a: 1, b: [1] }), ["$.b[0]: expected string, got number"]);
  assert.deepEqual(validate(schema, []), ["$: expected object, got array"]);
});

Deno.test("validate: pattern (with its description as the expectation) and propertyNames", () => {
  const name = { type: "string" as const, pattern: "^[a-z]+$", description: "lower-case letters" };
  assert.deepEqual(validate(name, "ok"), []);
  assert.deepEqual(validate(name, "No"), [
    '$: "No" does not match ^[a-z]+$ (expected lower-case letters)',
  ]);
  const map = { type: "object" as const, propertyNames: name, additionalProperties: true };
  assert.deepEqual(validate(map, { ok: 1, Bad: 2 }), [
    '$.Bad: "Bad" does not match ^[a-z]+$ (expected lower-case letters)',
  ]);
});

Deno.test("validate: minItems and minProperties", () => {
  assert.deepEqual(validate({ type: "array", minItems: 1 }, []), [
    "$: needs at least 1 item(s)",
  ]);
  assert.deepEqual(validate({ type: "object", minProperties: 1 }, {}), [
    "$: needs at least 1 entry(s)",
  ]);
  assert.deepEqual(validate({ type: "object", minProperties: 1 }, { a: 1 }), []);
});

Deno.test("validate: oneOf of required keys says which keys, next to the other rules", () => {
  const schema = {
    type: "object" as const,
    required: ["match"],
    oneOf: [{ required: ["pool"] }, { required: ["split"] }],
  };
  assert.deepEqual(validate(schema, { match: {}, pool: "a" }), []);
  assert.deepEqual(validate(schema, { match: {}, pool: "a", split: {} }), [
    '$: needs exactly one of "pool" or "split", not several',
  ]);
  assert.deepEqual(validate(schema, {}), [
    '$: needs exactly one of "pool" or "split"',
    '$: missing "match"',
  ]);
  assert.deepEqual(validate(schema, "x"), ["$: expected object, got string"]);
});

// --- the file layer ---------------------------------------------------------

Deno.test("the file layer: values, backends with weights and metadata", () => {
  const c = run([], {}, {
    backends: [
      "http://127.0.0.1:1",
      { url: "127.0.0.1:2", weight: 4, metadata: { zone: "b" } },
    ],
    strategy: "least-connections",
    "health-interval": "2s",
    retries: 1,
    "eject-on-5xx": true,
    "trust-proxy": ["10.0.0.0/8", "::1"],
  });
  const [p] = c.pools;
  assert.deepEqual(p.backends.map((b) => [b.origin, b.weight, b.metadata]), [
    ["http://127.0.0.1:1", 1, undefined],
    ["http://127.0.0.1:2", 4, { zone: "b" }],
  ]);
  assert.equal(p.strategy, "least-connections");
  assert.equal(p.health.intervalMs, 2000);
  assert.equal(p.retries, 1);
  assert.equal(p.outlier.on5xx, true);
  assert.deepEqual(c.trustProxy.map((r) => r.text), ["10.0.0.0/8", "::1"]);
  assert.equal(c.settings.default.backends, "http://127.0.0.1:1,http://127.0.0.1:2=4");
});

Deno.test("the file layer: metadata of https:// backends is kept (the scheme is part of the origin)", () => {
  const c = run([], {}, {
    backends: [
      { url: "https://api.internal:8443", metadata: { zone: "a" } },
      { url: "https://api.internal:443", metadata: { zone: "b" } },
      { url: "http://api.internal:8443", metadata: { zone: "c" } },
    ],
  });
  assert.deepEqual(c.pools[0].backends.map((b) => [b.origin, b.tls, b.metadata]), [
    ["https://api.internal:8443", true, { zone: "a" }],
    // The default port is dropped from the origin, as --backends does.
    ["https://api.internal", true, { zone: "b" }],
    ["http://api.internal:8443", false, { zone: "c" }],
  ]);
});

Deno.test("the file layer: metadata applies to the same backends given by --backends", () => {
  const c = run(["--backends", "http://a:1,http://b:2"], {}, {
    backends: [{ url: "a:1", metadata: { zone: "a" } }],
  });
  assert.deepEqual(c.pools[0].backends.map((b) => b.metadata), [{ zone: "a" }, undefined]);
});

Deno.test("precedence: flags > environment > file > defaults", () => {
  const json = { strategy: "random", port: 7000, "admin-port": 7001, "health-fall": 5 };
  const c = run(["--strategy", "p2c-ewma"], { PROXY_PORT: "7100" }, json);
  assert.equal(c.pools[0].strategy, "p2c-ewma"); // flag beats file
  assert.equal(c.port, 7100); // env beats file
  assert.equal(c.adminPort, 7001); // file beats default
  assert.equal(c.pools[0].health.fall, 5);
  assert.equal(c.pools[0].health.rise, 2); // default
});

Deno.test("precedence: a switch set in the file stays on; false in the file is off", () => {
  assert.equal(run([], {}, { "access-log": true }).accessLog, true);
  assert.equal(run(["--access-log"], {}, { "access-log": false }).accessLog, true);
  assert.equal(run([], {}, { "access-log": false }).accessLog, false);
});

Deno.test("config: the path is kept; config and check are not file keys", () => {
  assert.equal(run(["--config", "lb.json"], {}, {}).configFile, "lb.json");
  assert.deepEqual(fileProblems(JSON.stringify({ config: "x", check: true })), [
    "--config: lb.json: config: unknown setting",
    "--config: lb.json: check: unknown setting",
  ]);
});

// --- bad files --------------------------------------------------------------

Deno.test("bad files: invalid JSON, wrong types, unknown settings, all reported", () => {
  assert.match(fileProblems("{ nope")[0], /^--config: lb\.json is not valid JSON \(/);
  const listed = fileProblems(JSON.stringify({ backends: 5, retries: true, bogus: 1 }));
  assert.equal(listed.length, 3, listed.join("\n"));
  assert.ok(listed.some((p) => p.includes("bogus: unknown setting")));
  assert.ok(listed.every((p) => p.startsWith("--config: lb.json: ")));
  assert.deepEqual(fileProblems("[]"), ["--config: lb.json: expected object, got array"]);
});

Deno.test("bad files: a value's problem names its place in the file", () => {
  const text = JSON.stringify({ "health-interval": "soon", retries: 11, strategy: "fast" });
  assert.deepEqual(problemsOf({ file: { path: "lb.json", text } }), [
    "--config: lb.json: retries: must be at most 10",
    '--config: lb.json: strategy: must be one of "round-robin", "least-connections", ' +
    '"p2c-ewma", "random", "consistent-hash", "sticky-cookie"',
  ]);
  const semantic = JSON.stringify({ "health-interval": "soon", retries: "x" });
  assert.deepEqual(problemsOf({ file: { path: "lb.json", text: semantic } }), [
    '--config: lb.json: health-interval: "soon" is not a duration (expected e.g. 500ms, 5s, 1m)',
    '--config: lb.json: retries: "x" is not a whole number from 0 to 10',
  ]);
});

Deno.test("bad files: an extension other than .json, .yaml or .yml is refused, naming the path", () => {
  for (const path of ["lb.toml", "lb", "conf.d/lb.JSON5"]) {
    assert.deepEqual(fileProblems("{}", path), [
      `--config: ${path}: can't tell its format (expected .json, .yaml or .yml)`,
    ]);
  }
  assert.deepEqual(fileProblems("{}", "LB.JSON"), []);
});

Deno.test("loadConfigFile: reads a file, and names one it can't read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/lb.yml`;
    await Deno.writeTextFile(path, "retries: 3\n");
    const file = await loadConfigFile(path);
    assert.deepEqual(file.values, { retries: "3" });
    await assert.rejects(() => loadConfigFile(`${dir}/missing.json`), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.problems[0], /^--config: can't read .*missing\.json \(/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- YAML -------------------------------------------------------------------

Deno.test("YAML: the same settings as JSON give the same config", () => {
  const yaml = `
backends:
  - http://127.0.0.1:1
  - { url: "127.0.0.1:2", weight: 4, metadata: { zone: b } }
strategy: least-connections
health-interval: 2s
retries: 1
eject-on-5xx: true
trust-proxy: [10.0.0.0/8, "::1"]
`;
  const json = {
    backends: ["http://127.0.0.1:1", { url: "127.0.0.1:2", weight: 4, metadata: { zone: "b" } }],
    strategy: "least-connections",
    "health-interval": "2s",
    retries: 1,
    "eject-on-5xx": true,
    "trust-proxy": "10.0.0.0/8,::1",
  };
  const fromYaml = configOf({ file: { path: "lb.yaml", text: yaml } });
  assert.deepEqual(fromYaml, run([], {}, json));
  assert.deepEqual(configOf({ file: { path: "lb.yml", text: yaml } }), fromYaml);
});

Deno.test("YAML: YAML 1.2, so `on` and `no` are strings, and merge keys work", () => {
  const file = parseConfigFile(
    "lb.yaml",
    "pools:\n  a: &base { backends: a:1, retries: 1 }\n  b: { <<: *base, backends: b:1 }\n",
  );
  assert.deepEqual(file.pools?.map((p) => [p.name, p.values]), [
    ["a", { backends: "a:1", retries: "1" }],
    ["b", { backends: "b:1", retries: "1" }],
  ]);
  assert.deepEqual(fileProblems("access-log: on\n", "lb.yaml"), [
    "--config: lb.yaml: access-log: expected boolean, got string",
  ]);
});

Deno.test("YAML: invalid YAML is one problem naming the file, with the parser's first line", () => {
  const [problem, ...rest] = fileProblems("a: [1\nb: : :\n", "lb.yaml");
  assert.deepEqual(rest, []);
  assert.match(problem, /^--config: lb\.yaml is not valid YAML \([^\n]+\)$/);
  assert.match(fileProblems("a: 1\na: 2\n", "lb.yaml")[0], /not valid YAML .*unique/i);
});

Deno.test("LB_ENV_VARS includes the YAML parser's own variables, so a binary may read them", () => {
  for (const name of YAML_ENV_VARS) assert.ok(LB_ENV_VARS.includes(name), name);
});
