/**
 * `lb replay` on a 100,000-line log, end to end as a subprocess (start-up
 * included), printing how long it took. No timed assertion: the figure
 * that counts is `deno task bench --replay`'s (scripts/bench/replay.ts,
 * which generates the same log); this checks that every line was replayed.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { REPLAY_CONFIG, REPLAY_LINES, replayLog, timeReplay } from "../../scripts/bench/replay.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

Deno.test("lb replay of a 100,000-line log (prints the time)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-replay-speed-" });
  try {
    const config = join(dir, "b.yaml");
    const file = join(dir, "access.jsonl");
    await Deno.writeTextFile(config, REPLAY_CONFIG);
    await Deno.writeTextFile(file, replayLog());
    const { seconds, simulated } = await timeReplay(ROOT, config, file);
    assert.equal(simulated, REPLAY_LINES);
    console.log(`lb replay: ${REPLAY_LINES} lines in ${seconds.toFixed(2)} s (start-up included)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
