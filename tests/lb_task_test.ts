/**
 * `deno task lb`'s flags are written once, in deno.json: the benchmark
 * starts the lb with all of them, so what it measures (memory above all:
 * `--no-code-cache`, `--no-maglev`) is the lb as people run it, and
 * `deno task compile` bakes the runtime ones into the binary.
 */

import assert from "node:assert/strict";
import { lbRunFlags, lbRuntimeFlags } from "../scripts/lb_task.ts";

const root = new URL("..", import.meta.url).pathname;

Deno.test("lb task: the benchmark runs the lb with deno task lb's flags", () => {
  const task = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).tasks.lb as string;
  const flags = lbRunFlags(root);
  assert.equal(task, ["deno", "run", ...flags, "main.ts"].join(" "));
  assert.ok(flags.includes("--allow-net"));
});

Deno.test("lb task: the runtime flags, without permissions, are what the binary is built with", async () => {
  assert.deepEqual(lbRuntimeFlags(root), ["--no-code-cache", "--v8-flags=--no-maglev"]);
  const compile = await Deno.readTextFile(`${root}/scripts/compile.ts`);
  assert.match(compile, /entry === "main\.ts" \? lbRuntimeFlags\(ROOT\)/);
});

Deno.test("lb task: a task of another shape is an error, not a guess", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ tasks: { lb: "./dist/lb" } }));
    assert.throws(() => lbRunFlags(dir), /not "deno run <flags> main.ts"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
