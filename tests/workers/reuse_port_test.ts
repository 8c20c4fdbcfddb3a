/**
 * Without `reusePort` (not Linux, or Deno run without `--unstable-net`)
 * `--workers 2` cannot give each worker a listener on the port: lb exits 2
 * at start with a message naming `--workers` and `reusePort`, before it
 * listens. deno.json turns unstable net on, so the run here skips it
 * (`--no-config`, with deno.json as the import map and the other unstable
 * feature it names); a control run of the same command with `--workers 1`
 * shows that the command itself is sound.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LOOPBACK_PORTS } from "../_lb.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs main.ts without deno.json's `--unstable-net` (on Linux); kills it after 15 s. */
async function runWithoutUnstableNet(
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  const deno = Deno.build.os === "linux"
    ? ["--no-config", "--import-map", "deno.json", "--unstable-no-legacy-abort"]
    : [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...deno, "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: abort.signal,
  }).output().finally(() => clearTimeout(timer));
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

const FLAGS = [
  ...LOOPBACK_PORTS,
  ...["--backends", "http://127.0.0.1:9"],
];

Deno.test("--workers 2 without reusePort exits 2 naming --workers and reusePort", async () => {
  const { code, output } = await runWithoutUnstableNet([...FLAGS, "--workers", "2"]);
  assert.equal(code, 2, output);
  assert.match(output, /--workers/);
  assert.match(output, /reusePort/);
  assert.doesNotMatch(output, /lb listening on/);
});

Deno.test({
  name: "control: the same command with --workers 1 resolves its imports and parses its flags",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { code, output } = await runWithoutUnstableNet([...FLAGS, "--workers", "1", "--check"]);
    assert.equal(code, 0, output);
    assert.match(output, /configuration is valid/);
  },
});
