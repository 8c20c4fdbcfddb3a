import assert from "node:assert/strict";
import { parseFlags, pick, Problems, USAGE_EXIT_CODE, UsageError } from "../../lib/config/cli.ts";

const OPTIONS = {
  port: { type: "string" },
  "log-level": { type: "string" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `fn`, which must throw a UsageError, and returns its problems. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    assert.equal(err.name, "UsageError");
    assert.equal(err.message, err.problems.join("\n"));
    return err.problems;
  }
  assert.fail("expected a UsageError");
}

// --- parseFlags -------------------------------------------------------------

Deno.test("parseFlags returns string and boolean values", () => {
  const values = parseFlags(["--port", "8080", "--verbose", "--log-level=debug"], OPTIONS);
  assert.equal(values.port, "8080");
  assert.equal(values.verbose, true);
  assert.equal(values["log-level"], "debug");
  assert.equal(values.help, undefined);
});

Deno.test("parseFlags accepts a short alias", () => {
  assert.equal(parseFlags(["-h"], OPTIONS).help, true);
});

Deno.test("parseFlags with no arguments returns no values", () => {
  assert.deepEqual({ ...parseFlags([], OPTIONS) }, {});
});

const USAGE_CASES: { name: string; args: string[]; problem: string }[] = [
  { name: "unknown long flag", args: ["--nope"], problem: "--nope: unknown flag (see --help)" },
  {
    name: "unknown flag after valid ones",
    args: ["--port", "1", "--prot", "2"],
    problem: "--prot: unknown flag (see --help)",
  },
  { name: "unknown short flag", args: ["-x"], problem: "-x: unknown flag (see --help)" },
  { name: "missing value at the end", args: ["--port"], problem: "--port: needs a value" },
  {
    name: "positional argument",
    args: ["serve"],
    problem: 'unexpected argument "serve" (flags start with --)',
  },
  {
    name: "positional after --",
    args: ["--", "x"],
    problem: 'unexpected argument "x" (flags start with --)',
  },
  {
    name: "positional after a boolean",
    args: ["--verbose", "yes"],
    problem: 'unexpected argument "yes" (flags start with --)',
  },
];

for (const { name, args, problem } of USAGE_CASES) {
  Deno.test(`parseFlags: ${name} → UsageError`, () => {
    assert.deepEqual(problemsOf(() => parseFlags(args, OPTIONS)), [problem]);
  });
}

Deno.test("parseFlags: a value given to a boolean flag names the flag", () => {
  const [problem] = problemsOf(() => parseFlags(["--verbose=1"], OPTIONS));
  assert.equal(problem, "--verbose: takes no value");
});

// Regression test for a fixed bug (lib/cli.ts:58-59): for a boolean with a short alias, node:util says
// "Option '-h, --help' does not take an argument"; unlike the "argument
// missing" branch above it, this branch does not strip the "-h, " prefix, so
// the problem reads "-h, --help: takes no value".
Deno.test({
  name: "parseFlags: a value given to a boolean with a short alias names only the long flag",
  fn() {
    assert.deepEqual(problemsOf(() => parseFlags(["--help=1"], OPTIONS)), [
      "--help: takes no value",
    ]);
  },
});

// Regression test for a fixed bug (lib/cli.ts:52-60): `--port --verbose` (a forgotten value followed by
// another flag) makes node:util throw "Option '--port' argument is
// ambiguous.\nDid you forget …", which describeParseError does not recognise;
// the raw three-line message becomes the problem instead of
// "--port: needs a value".
Deno.test({
  name: "parseFlags: a missing value followed by another flag → needs a value",
  fn() {
    assert.deepEqual(problemsOf(() => parseFlags(["--port", "--verbose"], OPTIONS)), [
      "--port: needs a value",
    ]);
  },
});

Deno.test("parseFlags: a missing value followed by another flag still names the flag", () => {
  const problems = problemsOf(() => parseFlags(["--port", "--verbose"], OPTIONS));
  assert.equal(problems.length, 1);
  assert.match(problems[0], /--port/);
});

Deno.test("USAGE_EXIT_CODE is 2", () => {
  assert.equal(USAGE_EXIT_CODE, 2);
});

// --- Problems ---------------------------------------------------------------

Deno.test("Problems.add prefixes the flag", () => {
  const p = new Problems();
  p.add("port", "is wrong");
  assert.deepEqual(p.list, ["--port: is wrong"]);
});

Deno.test("Problems.throwIfAny does nothing when empty and throws every problem otherwise", () => {
  const p = new Problems();
  p.throwIfAny();
  p.add("a", "one");
  p.add("b", "two");
  assert.deepEqual(problemsOf(() => p.throwIfAny()), ["--a: one", "--b: two"]);
});

const PORTS: [string, number | undefined][] = [
  ["0", 0],
  ["80", 80],
  ["65535", 65535],
  [" 8080 ", 8080],
  ["65536", undefined],
  ["70000", undefined],
  ["-1", undefined],
  ["", undefined],
  ["8080x", undefined],
  ["1e3", undefined],
  ["0x50", undefined],
  ["80.5", undefined],
];

for (const [raw, expected] of PORTS) {
  Deno.test(`Problems.port(${JSON.stringify(raw)})`, () => {
    const p = new Problems();
    const port = p.port("admin-port", raw);
    if (expected === undefined) {
      assert.equal(port, 0);
      assert.deepEqual(p.list, [
        `--admin-port: "${raw}" is not a port (expected 0-65535)`,
      ]);
    } else {
      assert.equal(port, expected);
      assert.deepEqual(p.list, []);
    }
  });
}

const DURATIONS: [string, number | undefined][] = [
  ["5s", 5000],
  ["250ms", 250],
  ["0", 0],
  ["5", undefined],
  ["fast", undefined],
  ["", undefined],
];

for (const [raw, expected] of DURATIONS) {
  Deno.test(`Problems.duration(${JSON.stringify(raw)})`, () => {
    const p = new Problems();
    const ms = p.duration("health-interval", raw);
    if (expected === undefined) {
      assert.equal(ms, 0);
      assert.deepEqual(p.list, [
        `--health-interval: "${raw}" is not a duration (expected e.g. 500ms, 5s, 1m)`,
      ]);
    } else {
      assert.equal(ms, expected);
      assert.deepEqual(p.list, []);
    }
  });
}

const INTEGERS: [string, number | undefined][] = [
  ["1", 1],
  ["10", 10],
  [" 3 ", 3],
  ["0", undefined],
  ["11", undefined],
  ["-1", undefined],
  ["2.5", undefined],
  ["two", undefined],
  ["", undefined],
];

for (const [raw, expected] of INTEGERS) {
  Deno.test(`Problems.integer(${JSON.stringify(raw)}, 1, 10)`, () => {
    const p = new Problems();
    const n = p.integer("retries", raw, 1, 10);
    if (expected === undefined) {
      assert.equal(n, 1, "falls back to min");
      assert.deepEqual(p.list, [`--retries: "${raw}" is not a whole number from 1 to 10`]);
    } else {
      assert.equal(n, expected);
      assert.deepEqual(p.list, []);
    }
  });
}

Deno.test("Problems.choice accepts a listed word and rejects others, listing the choices", () => {
  const allowed = ["text", "json"] as const;
  const p = new Problems();
  assert.equal(p.choice("log-format", "json", allowed), "json");
  assert.deepEqual(p.list, []);
  assert.equal(p.choice("log-format", "JSON", allowed), "text", "falls back to the first");
  assert.equal(p.choice("log-format", "", allowed), "text");
  assert.deepEqual(p.list, [
    '--log-format: "JSON" is not one of text, json',
    '--log-format: "" is not one of text, json',
  ]);
});

Deno.test("Problems collects every problem, in order", () => {
  const p = new Problems();
  p.port("port", "x");
  p.duration("timeout", "y");
  p.integer("retries", "z", 0, 3);
  p.choice("mode", "w", ["a"]);
  assert.deepEqual(p.list.map((s) => s.split(":")[0]), [
    "--port",
    "--timeout",
    "--retries",
    "--mode",
  ]);
});

// --- pick -------------------------------------------------------------------

const PICKS: {
  name: string;
  flag: string | boolean | undefined;
  env: Record<string, string | undefined>;
  envName: string | undefined;
  expected: string;
}[] = [
  { name: "flag beats env", flag: "1", env: { X: "2" }, envName: "X", expected: "1" },
  { name: "empty flag still beats env", flag: "", env: { X: "2" }, envName: "X", expected: "" },
  { name: "env beats default", flag: undefined, env: { X: "2" }, envName: "X", expected: "2" },
  { name: "empty env is ignored", flag: undefined, env: { X: "" }, envName: "X", expected: "d" },
  { name: "unset env → default", flag: undefined, env: {}, envName: "X", expected: "d" },
  {
    name: "undefined env → default",
    flag: undefined,
    env: { X: undefined },
    envName: "X",
    expected: "d",
  },
  {
    name: "no env name → default",
    flag: undefined,
    env: { X: "2" },
    envName: undefined,
    expected: "d",
  },
  { name: "boolean flag is not a value", flag: true, env: { X: "2" }, envName: "X", expected: "2" },
];

for (const { name, flag, env, envName, expected } of PICKS) {
  Deno.test(`pick: ${name}`, () => {
    assert.equal(pick(flag, env, envName, "d"), expected);
  });
}

Deno.test("Problems.at names any location, and says the same problem once", () => {
  const p = new Problems();
  p.at("--config: lb.yaml: pools.api.retries", "is wrong");
  p.add("retries", "is wrong");
  // A value inherited by several pools is one mistake, reported once.
  p.add("retries", "is wrong");
  assert.deepEqual(p.list, [
    "--config: lb.yaml: pools.api.retries: is wrong",
    "--retries: is wrong",
  ]);
});
