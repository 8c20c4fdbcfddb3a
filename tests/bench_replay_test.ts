/** `deno task bench --replay`: its flag, and the log it generates. */

import assert from "node:assert/strict";
import { parseOptions } from "../scripts/bench/options.ts";
import { replayLog } from "../scripts/bench/replay.ts";
import { parseLine } from "../lib/replay/log_record.ts";

Deno.test("bench --replay: only the replay timing, with --rounds", () => {
  const o = parseOptions(["--replay", "--rounds", "2"]);
  assert.ok(o !== "help");
  assert.equal(o.replay, true);
  assert.equal(o.rounds, 2);
  const plain = parseOptions([]);
  assert.ok(plain !== "help");
  assert.equal(plain.replay, false);
});

Deno.test("bench --replay: every generated line is a request record the replay reads", () => {
  const lines = replayLog(12).trimEnd().split("\n");
  assert.equal(lines.length, 12);
  lines.forEach((line, i) => {
    const read = parseLine(line, i + 1);
    assert.equal(read.kind, "record", JSON.stringify(read));
  });
});
