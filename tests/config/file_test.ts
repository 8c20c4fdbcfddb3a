/**
 * The config file layer: schema validation, conversion to flag values,
 * precedence (flags > env > file > defaults), metadata, and which changed
 * settings a reload can't apply.
 */

import assert from "node:assert/strict";
import { UsageError } from "../lib/config/cli.ts";
import { parseConfigFile } from "../lib/config/file.ts";
import { type LbConfig, parseLbArgs } from "../lib/config/parse.ts";
import { validate } from "../lib/config/json_schema.ts";
import { needsRestart } from "../lib/server/lb.ts";

function run(args: string[], env: Record<string, string>, json: unknown): LbConfig {
  const file = parseConfigFile("lb.json", JSON.stringify(json));
  const command = parseLbArgs(args, env, () => "secret-for-tests", file);
  assert.equal(command.kind, "run");
  return (command as { config: LbConfig }).config;
}

function problems(text: string): string[] {
  try {
    parseConfigFile("lb.json", text);
  } catch (err) {
    assert.ok(err instanceof UsageError);
    return [...err.problems];
  }
  return [];
}

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
  });
  assert.deepEqual(c.backends.map((b) => [b.origin, b.weight, b.metadata]), [
    ["http://127.0.0.1:1", 1, undefined],
    ["http://127.0.0.1:2", 4, { zone: "b" }],
  ]);
  assert.equal(c.strategy, "least-connections");
  assert.equal(c.health.intervalMs, 2000);
  assert.equal(c.retries, 1);
  assert.equal(c.outlier.on5xx, true);
});

Deno.test("the file layer: metadata of https:// backends is kept (the scheme is part of the origin)", () => {
  const c = run([], {}, {
    backends: [
      { url: "https://api.internal:8443", metadata: { zone: "a" } },
      { url: "https://api.internal:443", metadata: { zone: "b" } },
      { url: "http://api.internal:8443", metadata: { zone: "c" } },
    ],
  });
  assert.deepEqual(c.backends.map((b) => [b.origin, b.tls, b.metadata]), [
    ["https://api.internal:8443", true, { zone: "a" }],
    // The default port is dropped from the origin, as --backends does.
    ["https://api.internal", true, { zone: "b" }],
    ["http://api.internal:8443", false, { zone: "c" }],
  ]);
});

Deno.test("precedence: flags > environment > file > defaults", () => {
  const json = { strategy: "random", port: 7000, "admin-port": 7001, "health-fall": 5 };
  const c = run(["--strategy", "p2c-ewma"], { PROXY_PORT: "7100" }, json);
  assert.equal(c.strategy, "p2c-ewma"); // flag beats file
  assert.equal(c.port, 7100); // env beats file
  assert.equal(c.adminPort, 7001); // file beats default
  assert.equal(c.health.fall, 5);
  assert.equal(c.health.rise, 2); // default
});

Deno.test("bad files: invalid JSON, wrong types, unknown settings, all reported", () => {
  assert.match(problems("{ nope")[0], /^--config: lb\.json is not valid JSON/);
  const listed = problems(JSON.stringify({ backends: 5, retries: true, bogus: 1 }));
  assert.equal(listed.length, 3, listed.join("\n"));
  assert.ok(listed.some((p) => p.includes("bogus: unknown setting")));
  assert.ok(listed.every((p) => p.startsWith("--config: lb.json: ")));
  // Semantic problems come from the same rules as the flags.
  const file = parseConfigFile("lb.json", JSON.stringify({ "health-interval": "soon" }));
  assert.throws(() => parseLbArgs([], {}, () => "s", file), /--health-interval: "soon"/);
});

Deno.test("needsRestart names listener, transport and logging changes only", () => {
  const base = run([], {}, { backends: ["127.0.0.1:1"] });
  assert.deepEqual(needsRestart(base, base), []);
  const moved = run([], {}, { backends: ["127.0.0.1:2"], port: 9000, strategy: "random" });
  assert.deepEqual(needsRestart(base, moved), ["port"]);
  const logs = run([], {}, {
    backends: ["127.0.0.1:1"],
    "log-format": "json",
    "idle-timeout": "5s",
  });
  assert.deepEqual(needsRestart(base, logs), ["idleTimeoutMs", "logFormat"]);
});
