/** The access-log reader: fixed lines in, records, skips and reasons out; and the line splitter. */

import assert from "node:assert/strict";
import { parseLine } from "../../lib/replay/log_record.ts";
import { readLines } from "../../lib/replay/lines.ts";
import { logLine } from "./_replay.ts";

Deno.test("a default JSON access-log line becomes a record arriving at time less duration", () => {
  const out = parseLine(logLine({ user: "ann", path: "/a?x=1" }), 7);
  assert.equal(out.kind, "record");
  if (out.kind !== "record") return;
  assert.deepEqual(out.record, {
    line: 7,
    at: Date.parse("2026-12-02T10:00:00.000Z") - 1.5,
    method: "GET",
    path: "/a?x=1",
    host: "site.test",
    client: "192.0.2.1",
    status: 200,
    route: "site",
    pool: "default",
    backend: "http://127.0.0.1:9001",
    user: "ann",
  });
});

Deno.test("a null host is no Host; no duration_ms means arrival at time; extra fields are ignored", () => {
  const out = parseLine(
    logLine({ host: null, duration_ms: undefined, explain: { route: "x" } }),
    1,
  );
  assert.equal(out.kind, "record");
  if (out.kind !== "record") return;
  assert.equal(out.record.host, null);
  assert.equal(out.record.at, Date.parse("2026-12-02T10:00:00.000Z"));
  assert.equal("user" in out.record, false);
});

Deno.test("malformed lines say why; blank lines and other JSON are skipped", () => {
  const cases: [string, string][] = [
    ["{not json", "not JSON"],
    ["[1,2]", "not a JSON object"],
    ['"text"', "not a JSON object"],
    [logLine({ route: undefined }), 'no "route" field'],
    [logLine({ time: "yesterday" }), '"time" is not an ISO 8601 time'],
    [logLine({ time: 17 }), '"time" is not an ISO 8601 time'],
    [logLine({ status: "200" }), '"status" is not a number'],
    [logLine({ host: 3 }), '"host" is not a string or null'],
    [logLine({ client: null }), '"client" is not a string'],
    [logLine({ backend: 1 }), '"backend" is not a string'],
  ];
  for (const [line, reason] of cases) {
    assert.deepEqual(parseLine(line, 1), { kind: "malformed", reason }, line);
  }
  for (const line of ["", "  \r", '{"level":"info","message":"lb listening"}']) {
    assert.deepEqual(parseLine(line, 1), { kind: "skip" }, line);
  }
});

Deno.test("lines are split across chunk boundaries, a last line without a line feed counts", async () => {
  const chunks = ["ab", "c\nde", "f\n\ng\nh", "i", "\r\nlast"];
  const stream = ReadableStream.from(chunks.map((c) => new TextEncoder().encode(c)));
  const lines: string[] = [];
  for await (const line of readLines(stream)) lines.push(line);
  assert.deepEqual(lines, ["abc", "def", "", "g", "hi\r", "last"]);
});

Deno.test("a UTF-8 character split between chunks is read whole", async () => {
  const bytes = new TextEncoder().encode("café\n");
  const stream = ReadableStream.from([bytes.slice(0, 4), bytes.slice(4)]);
  const lines: string[] = [];
  for await (const line of readLines(stream)) lines.push(line);
  assert.deepEqual(lines, ["café"]);
});
