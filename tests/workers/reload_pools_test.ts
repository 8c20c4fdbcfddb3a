/**
 * A pool added by a reload is part of the one health view: when one of its
 * backends dies afterwards, the main thread's checks take it out of every
 * worker (with `--retries 0`, a worker that missed it would answer 502).
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor } from "../_lb.ts";
import { byBody, failures, hits, namedBackend, startWorkersLb } from "./_workers.ts";
import { entryOf } from "./_more.ts";

async function writeConfig(path: string, config: unknown): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(config));
  await Deno.rename(`${path}.tmp`, path);
}

Deno.test("--workers 2: a backend of a pool added by a reload that dies is avoided by both workers", async () => {
  await using a = namedBackend("a");
  await using b1 = namedBackend("b1");
  await using b2 = namedBackend("b2");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await writeConfig(path, {
      pools: { a: { backends: [a.origin] } },
      routes: [{ name: "a", match: {}, pool: "a" }],
    });
    await using lb = await startWorkersLb([], { extra: ["--config", path, "--retries", "0"] });
    await writeConfig(path, {
      pools: { a: { backends: [a.origin] }, b: { backends: [b1.origin, b2.origin] } },
      routes: [
        { name: "b", match: { "path-prefix": "/b" }, pool: "b" },
        { name: "a", match: {}, pool: "a" },
      ],
    });
    await lb.proc.waitForLine(/configuration reloaded/, 5000);
    const before = await hits(lb.port, 40, 8, "/b");
    assert.deepEqual(failures(before), []);
    assert.deepEqual(Object.keys(byBody(before)).sort(), ["b1", "b2"]);

    await b1.close();
    await waitFor(
      async () => (await entryOf(lb, b1.origin))?.state === "down",
      3000,
      "the main thread's checks to find b1 down",
    );
    const after = await hits(lb.port, 100, 8, "/b");
    assert.deepEqual(failures(after), [], "a worker still sent to b1");
    assert.deepEqual(byBody(after), { b2: 100 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
