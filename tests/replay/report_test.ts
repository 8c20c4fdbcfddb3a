/** The tally and the text report: outcomes add up, tables are ordered and rendered, shares are of the right whole. */

import assert from "node:assert/strict";
import { Tally } from "../../lib/replay/tally.ts";
import { percent, renderText, table, visible } from "../../lib/replay/report_text.ts";
import { replayLog } from "../../lib/replay/run.ts";
import type { Fate } from "../../lib/replay/types.ts";
import { configOf, logLine } from "./_replay.ts";

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";

const served = (route: string, pool: string, backend: string): Fate => ({
  kind: "served",
  route,
  pool,
  backend,
});
const refused = (status: number, route = "none", pool = "none"): Fate => ({
  kind: "rejected",
  status,
  reason: status === 404 ? "no-route" : "ip",
  route,
  pool,
});

function sample() {
  const t = new Tally();
  for (let i = 0; i < 8; i++) t.line();
  t.skip();
  t.malformed(3, "not JSON");
  t.add(served("api", "api", A), served("api", "api", A)); // same
  t.add(served("api", "api", A), served("api", "api", B)); // backend only
  t.add(served("api", "api", A), served("api", "web", A)); // pool
  t.add(served("old", "web", A), served("api", "api", A)); // route
  t.add(served("old", "web", A), refused(404)); // newly 404
  t.add(refused(404), served("api", "api", A)); // no longer
  t.add(refused(403, "api", "api"), refused(403, "api", "api")); // still
  t.add(served("api", "api", A), {
    kind: "credentials",
    policy: "basic-auth",
    route: "api",
    pool: "api",
  });
  return t.report(
    { config: "b.yaml", log: "a.jsonl", seed: 1 },
    { routes: ["api"], pools: [{ name: "web", backends: [B] }, { name: "api", backends: [B, A] }] },
    ["a note"],
  );
}

Deno.test("the summary's six outcomes add up to the requests simulated", () => {
  const s = sample().summary;
  assert.deepEqual(s, {
    lines: 8,
    skipped: 1,
    malformed: 1,
    malformedLines: [{ line: 3, reason: "not JSON" }],
    simulated: 8,
    same: 1,
    moved: { total: 3, route: 1, pool: 1, backend: 1 },
    newlyRejected: { total: 1, byStatus: { 404: 1 } },
    stillRejected: 1,
    noLongerRejected: 1,
    needsCredentials: 1,
  });
});

Deno.test("tables put the new config's names first, in its order, then others, none last", () => {
  const r = sample();
  assert.deepEqual(r.routes, [
    { name: "api", before: 5, after: 7 },
    { name: "old", before: 2, after: 0 },
    { name: "none", before: 1, after: 1 },
  ]);
  assert.deepEqual(r.pools.map((p) => [p.name, p.before, p.after]), [
    ["web", 2, 1],
    ["api", 5, 6],
    ["none", 1, 1],
  ]);
  assert.deepEqual(r.pools[1].backends, [
    { name: B, before: 0, after: 1 },
    { name: A, before: 4, after: 3 },
    { name: "?", before: 0, after: 1 },
    { name: "none", before: 1, after: 1 },
  ]);
  assert.deepEqual(r.rejected, [
    { status: 403, route: "api", reason: "ip", count: 1, newly: 0 },
    { status: 404, route: "none", reason: "no-route", count: 1, newly: 1 },
  ]);
});

Deno.test("the text report: summary, shares of the whole and of the pool, rejections, notes", () => {
  const text = renderText(sample());
  assert.match(text, /^lb replay: a\.jsonl against b\.yaml \(seed 1\)\n/);
  assert.match(text, /\n {2}malformed +1 {2}line 3: not JSON\n/);
  assert.match(text, /\n {2}moved +3 {2}37\.5% \(route 1, pool 1, backend only 1\)\n/);
  assert.match(text, /\n {2}newly rejected +1 {2}12\.5% \(404: 1\)\n/);
  assert.match(text, /\n {2}api +5 +62\.5% +7 +87\.5%\n/);
  // A backend's share is of its pool: 4 of api's 5 before, 3 of its 6 after.
  assert.match(text, /\n {4}http:\/\/127\.0\.0\.1:9001 +4 +80\.0% +3 +50\.0%\n/);
  assert.match(text, /\n {2}404 +none +no route matches +1 +1\n/);
  assert.match(text, /\nNotes\n {2}- a note\n$/);
  for (const line of text.split("\n")) assert.equal(line, line.trimEnd());
});

Deno.test("percentages: one decimal, a dash when there is no whole", () => {
  assert.equal(percent(1, 3), "33.3%");
  assert.equal(percent(2, 3), "66.7%");
  assert.equal(percent(0, 0), "-");
  assert.equal(percent(5, 5), "100.0%");
});

Deno.test("replayLog from lines: the same seed gives the same report; other lines are counted", async () => {
  const config = configOf(`backends: ["${A}", "${B}"]\nstrategy: random\n`);
  const lines = [
    ...Array.from({ length: 50 }, (_, i) => logLine({ path: `/${i}`, route: "default" })),
    "garbage",
    "",
    logLine({ status: undefined, method: undefined }),
  ];
  const options = { seed: 5, configName: "b.yaml", logName: "a.jsonl" };
  const one = await replayLog(lines, config, options);
  const two = await replayLog(lines, config, options);
  assert.deepEqual(one, two);
  assert.equal(one.summary.lines, 53);
  assert.equal(one.summary.simulated, 50);
  assert.equal(one.summary.skipped, 2);
  assert.deepEqual(one.summary.malformedLines, [{ line: 51, reason: "not JSON" }]);
  const other = await replayLog(lines, config, { ...options, seed: 6 });
  assert.notDeepEqual(other.pools, one.pools);
});

Deno.test("a log with no request record at all says what format is expected", async () => {
  const config = configOf(`backends: ["${A}"]\n`);
  const options = { seed: 1, configName: "b.yaml", logName: "a.log" };
  const report = await replayLog(['127.0.0.1 - - "GET / HTTP/1.1" 200 5'], config, options);
  assert.equal(report.summary.malformed, 1);
  assert.match(report.notes.at(-1)!, /no line was a request record: .*--access-log-format json/);
  const empty = await replayLog([], config, options);
  assert.ok(!empty.notes.some((n) => /no line was/.test(n)));
});

Deno.test("names from the log are printed with their control characters escaped", () => {
  assert.equal(visible("web\x1b[2Jx\ty"), "web\\u001b[2Jx\\u0009y");
  assert.equal(visible("a\nb"), "a\\u000ab");
  assert.equal(visible("a\nb", true), "a\nb");
  const rows = table([["pool\x1b]0;owned\x07", "1"]]);
  assert.deepEqual(rows, ["  pool\\u001b]0;owned\\u0007  1"]);
});
