/**
 * Bad command lines: `lb` exits 2 with one line per problem, naming the
 * flag and the value, and starts nothing.
 */

import assert from "node:assert/strict";
import { runDeno } from "./_process.ts";

Deno.test("bad flags exit 2 and name every problem", async () => {
  const { code, stdout, stderr } = await runDeno("main.ts", [
    "--port",
    "70000",
    "--backends",
    "ftp://x:1,http://ok:1",
    "--health-interval",
    "soon",
    "--strategy",
    "fastest",
  ]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 4, stderr);
  assert.match(stderr, /--port: "70000"/);
  assert.match(stderr, /--backends: "ftp:\/\/x:1"/);
  assert.match(stderr, /--health-interval: "soon"/);
  assert.match(stderr, /--strategy: "fastest"/);
});

Deno.test("an unknown flag, an empty backend list and a missing value exit 2", async () => {
  for (
    const [args, pattern] of [
      [["--bogus"], /--bogus/],
      [["--backends", " , "], /--backends: no backends/],
      [["--port"], /--port/],
    ] as const
  ) {
    const { code, stderr } = await runDeno("main.ts", [...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, pattern);
  }
});

Deno.test("--help prints usage and exits 0; --version prints the version", async () => {
  const help = await runDeno("main.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--backends/);
  const version = await runDeno("main.ts", ["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^lb \d+\.\d+\.\d+/);
});
