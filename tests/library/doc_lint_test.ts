/** The public surface: `mod.ts` is documented so that `deno doc --lint` passes. */

import assert from "node:assert/strict";

Deno.test("deno doc --lint mod.ts passes: every public item and what it references is documented", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", new URL("../../mod.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
});
