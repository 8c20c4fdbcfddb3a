import assert from "node:assert/strict";
import { checkLayers, importsOf, LAYERS, readGraph } from "../scripts/layers.ts";

Deno.test("lib/ imports only downwards and has no import cycle", async () => {
  const graph = await readGraph(new URL("../lib", import.meta.url).pathname);
  assert.ok(graph.size > 50, `read ${graph.size} modules`);
  assert.deepEqual(checkLayers(graph).map((p) => p.message), []);
});

Deno.test("the layer check finds an upward import and a cycle, type-only ones too", () => {
  const graph = new Map([
    ["core/a.ts", ["pool/b.ts"]],
    ["pool/b.ts", ["pool/c.ts"]],
    ["pool/c.ts", ["pool/b.ts"]],
  ]);
  const messages = checkLayers(graph).map((p) => p.message);
  assert.deepEqual(messages, [
    "core/a.ts imports pool/b.ts: core is below pool",
    "import cycle among 2 modules: pool/b.ts, pool/c.ts",
  ]);
  assert.deepEqual(
    importsOf("pool/b.ts", 'import type { X } from "../core/x.ts";\nexport { y } from "./y.ts";'),
    ["core/x.ts", "pool/y.ts"],
  );
});

Deno.test("the README's architecture table lists every layer of lib/, in order", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Architecture"), readme.indexOf("## Performance"));
  const listed = [...section.matchAll(/^\| `([a-z0-9]+)\/`/gm)].map((m) => m[1]);
  assert.deepEqual(listed, [...LAYERS]);
  const dirs: string[] = [];
  for await (const e of Deno.readDir(new URL("../lib", import.meta.url))) {
    if (e.isDirectory) dirs.push(e.name);
  }
  assert.deepEqual(dirs.sort(), [...LAYERS].sort(), "every lib/ directory is a layer");
});
