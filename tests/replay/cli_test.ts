/** `lb replay`'s command line: help, bad flags, a missing log or config, a bad config, stdin. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseReplayArgs } from "../../lib/replay/cli.ts";
import type { UsageError } from "../../lib/config/cli.ts";
import { runDeno } from "../_process.ts";

Deno.test("the arguments after replay: defaults, and every problem named at once", () => {
  assert.deepEqual(parseReplayArgs(["--config", "b.yaml", "log.jsonl"]), {
    kind: "replay",
    config: "b.yaml",
    format: "text",
    seed: 1,
    log: "log.jsonl",
  });
  assert.deepEqual(parseReplayArgs(["-", "--seed", "9", "--format=json", "--config=b.yaml"]), {
    kind: "replay",
    config: "b.yaml",
    format: "json",
    seed: 9,
    log: "-",
  });
  assert.deepEqual(parseReplayArgs(["--help"]), { kind: "help" });
  assert.throws(
    () => parseReplayArgs(["--format", "xml", "--seed", "x", "a", "b"]),
    (err: UsageError) => {
      assert.deepEqual(err.problems, [
        'replay: --format: "xml" is not one of text, json',
        'replay: --seed: "x" is not a whole number from 0 to 4294967295',
        "replay: --config: needed: the new configuration file",
        'replay: LOG: one log only, got "b" too',
      ]);
      return true;
    },
  );
});

Deno.test("lb replay --help prints its usage; lb --help mentions it", async () => {
  const help = await runDeno("main.ts", ["replay", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: lb replay --config FILE/);
  const lb = await runDeno("main.ts", ["--help"]);
  assert.match(lb.stdout, /lb replay --config FILE/);
});

Deno.test("lb replay exits 2 naming a bad flag, a missing log, a directory, a missing or bad config", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-replay-cli-" });
  try {
    const good = join(dir, "b.yaml");
    await Deno.writeTextFile(good, 'backends: ["http://127.0.0.1:9001"]\n');
    const bad = join(dir, "bad.yaml");
    await Deno.writeTextFile(bad, "strategy: fastest\n");
    const log = join(dir, "log.jsonl");
    await Deno.writeTextFile(log, "");
    const cases: [string[], RegExp][] = [
      [["--bogus", "--config", good, log], /replay: --bogus: unknown flag/],
      [["--config", good, join(dir, "missing.jsonl")], /missing\.jsonl: can't read the log/],
      // A directory opens on Linux and failed only when read: an uncaught error, exit 1.
      [["--config", good, dir], /: is a directory, not a log file/],
      [["--config", join(dir, "none.yaml"), log], /--config: can't read .*none\.yaml/],
      [["--config", bad, log], /--config: .*bad\.yaml.*strategy/],
      [[log], /--config: needed/],
    ];
    for (const [args, pattern] of cases) {
      const out = await runDeno("main.ts", ["replay", ...args]);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.equal(out.stdout, "");
      assert.match(out.stderr, pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lb replay reads - as stdin, and environment variables don't change it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-replay-cli-" });
  try {
    const config = join(dir, "b.yaml");
    await Deno.writeTextFile(config, 'backends: ["http://127.0.0.1:9001"]\n');
    const out = await runDeno("main.ts", ["replay", "--config", config, "--format", "json", "-"], {
      env: { LB_STRATEGY: "random", BACKENDS: "http://127.0.0.1:9999" },
    });
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.equal(report.log, "stdin");
    assert.equal(report.summary.lines, 0);
    assert.deepEqual(report.pools.map((p: { name: string }) => p.name), ["default"]);
    assert.deepEqual(
      report.pools[0].backends.map((b: { name: string }) => b.name),
      ["http://127.0.0.1:9001"],
    );
    assert.ok(
      report.notes.some((n: string) => /ignored.*LB_STRATEGY/.test(n) && /BACKENDS/.test(n)),
      report.notes.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
