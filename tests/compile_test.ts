/**
 * The standalone binaries from `deno task compile`. `deno compile` needs a
 * `denort` runtime that is downloaded from a host some machines can't reach;
 * this test runs only where one is available (`DENORT_BIN`, or the zip
 * already in Deno's cache) and otherwise says plainly why it is skipped.
 */

import assert from "node:assert/strict";
import { startLb } from "./_lb.ts";

const version = Deno.version.deno;
const target = Deno.build.target;

function denortAvailable(): string | undefined {
  const bin = Deno.env.get("DENORT_BIN");
  if (bin) return `DENORT_BIN=${bin}`;
  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  const zip = `${denoDir}/dl/release/v${version}/denort-${target}.zip`;
  try {
    Deno.statSync(zip);
    return zip;
  } catch {
    return undefined;
  }
}

const source = denortAvailable();
if (!source) {
  console.log(
    `compile_test: SKIPPED — deno compile needs the denort ${version} runtime for ${target}, ` +
      "which is neither in DENORT_BIN nor in Deno's cache and can't be downloaded here.",
  );
}

Deno.test({
  name: "compiled dist/lb and dist/backend serve traffic",
  ignore: !source,
  async fn() {
    const root = new URL("..", import.meta.url).pathname;
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const backend = new Deno.Command(`${root}dist/backend`, {
      args: ["--port", "0", "--host", "127.0.0.1"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = backend.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!/listening on http:\/\/[^\s]+:(\d+)/.test(out)) out += (await reader.read()).value;
      reader.releaseLock();
      const port = /listening on http:\/\/[^\s]+:(\d+)/.exec(out)![1];
      await using lb = await startLb([`http://127.0.0.1:${port}`]);
      const res = await fetch(lb.url);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      backend.kill("SIGTERM");
      await backend.stdout.cancel();
      await backend.status;
    }
  },
});
