/**
 * The benchmark starts the lb with the flags of `deno task lb`, read from
 * deno.json, so what it measures (memory above all: `--no-code-cache`) is
 * the lb as people run it.
 */

import assert from "node:assert/strict";
import { lbRunFlags } from "../scripts/bench/proxies.ts";

const root = new URL("..", import.meta.url).pathname;

Deno.test("bench: the lb runs with deno task lb's flags", () => {
  const task = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).tasks.lb as string;
  const flags = lbRunFlags(root);
  assert.equal(task, ["deno", "run", ...flags, "main.ts"].join(" "));
  assert.ok(flags.includes("--no-code-cache"));
  assert.ok(flags.includes("--allow-net"));
});

Deno.test("deno task compile builds lb without a code cache too", async () => {
  const compile = await Deno.readTextFile(`${root}/scripts/compile.ts`);
  assert.match(compile, /entry === "main\.ts" \? \["--no-code-cache"\]/);
});

Deno.test("bench: an lb task of another shape is an error, not a guess", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ tasks: { lb: "./dist/lb" } }));
    assert.throws(() => lbRunFlags(dir), /not "deno run <flags> main.ts"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
