/**
 * The lb's own sources are Latin-1 only. V8 keeps each loaded module's
 * source, with the inline source map Deno adds (which repeats the source),
 * in every isolate: the main thread and each worker. One character outside
 * Latin-1 (an arrow or an ellipsis in a comment) makes that whole string
 * two bytes per character; the 45 modules that had one cost an isolate up to
 * 0.5 MiB. Text that must show such a character spells it as an
 * escape (`\u2192`, CSS `\25CF`, HTML `&hellip;`).
 */

import assert from "node:assert/strict";

const root = new URL("..", import.meta.url);

async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* sources(url);
    else if (e.name.endsWith(".ts")) yield url;
  }
}

Deno.test("lib/, main.ts and mod.ts are Latin-1 only", async () => {
  const files = [new URL("main.ts", root), new URL("mod.ts", root)];
  for await (const f of sources(new URL("lib/", root))) files.push(f);
  assert.ok(files.length > 100, "sources found");
  const wide: string[] = [];
  for (const f of files) {
    const lines = (await Deno.readTextFile(f)).split("\n");
    lines.forEach((line, i) => {
      // deno-lint-ignore no-control-regex -- the range is the point
      const m = /[^\u0000-\u00ff]/.exec(line);
      if (m) wide.push(`${f.pathname.slice(root.pathname.length)}:${i + 1}: ${m[0]}`);
    });
  }
  assert.deepEqual(wide, [], "characters outside Latin-1");
});
