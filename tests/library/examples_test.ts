/**
 * The programs in examples/ run as they would for a user (`deno run -A
 * examples/x.ts`), each starting its backends and the lb on loopback, and
 * print what the README says they show.
 */

import assert from "node:assert/strict";

const EXAMPLES: readonly (readonly [string, RegExp[]])[] = [
  ["auth_hook.ts", [
    /^\(no token\) → 401 sign in first$/m,
    /^Bearer wrong → 401 sign in first$/m,
    /^Bearer let-me-in → 200 app \/hello$/m,
  ]],
  ["ab_routing.ts", [
    /^plain → a \/page$/m,
    /^X-Variant: b → b \/page$/m,
    /^cookie beta=1 → b \/page$/m,
  ]],
  ["custom_strategy.ts", [/^four requests went to: near, near, near, near$/m]],
];

for (const [file, expected] of EXAMPLES) {
  Deno.test(`examples/${file} runs and shows what it should`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(`../../examples/${file}`, import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `exit ${out.code}\n${stdout}\n${stderr}`);
    for (const line of expected) assert.match(stdout, line);
  });
}
