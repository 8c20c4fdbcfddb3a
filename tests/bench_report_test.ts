import assert from "node:assert/strict";
import { latencySummary, parseBigClientOutput } from "../scripts/bench/big_client.ts";
import { bigFigures } from "../scripts/bench/measure.ts";
import { ratioRows, ratioTable, rssGoalLines } from "../scripts/bench/ratios.ts";
import {
  bigTable,
  h2Table,
  markdownTable,
  type RunRecord,
  summarize,
  type Summary,
} from "../scripts/bench/report.ts";

function run(target: string, round: number, figures: Partial<RunRecord>): RunRecord {
  return {
    case: "c",
    round,
    target,
    requestsPerSec: 100,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    ...figures,
  };
}

/** A summary row with only what a ratio needs. */
function row(target: string, figures: Partial<Summary>): Summary {
  return {
    target,
    runs: 1,
    failedRuns: 0,
    requestsPerSec: 100,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    ...figures,
  };
}

Deno.test("summarize: RSS growth is the largest peak-minus-idle; idle the smallest", () => {
  const rows = summarize([
    run("lb", 1, { idleRssMiB: 50, peakRssMiB: 70 }),
    run("lb", 2, { idleRssMiB: 60, peakRssMiB: 100 }),
    run("lb", 3, { idleRssMiB: 55, peakRssMiB: 75 }),
    run("direct", 1, {}),
  ], ["direct", "lb"]);
  assert.deepEqual(rows.map((r) => r.target), ["direct", "lb"]);
  const lb = rows[1];
  assert.equal(lb.idleRssMiB, 50);
  assert.equal(lb.rssGrowthMiB, 40);
  assert.equal(lb.peakRssMiB, 100);
  // Fields no run had stay off the row (and out of the JSON).
  assert.equal("rssGrowthMiB" in rows[0], false);
  assert.equal("meanMs" in rows[0], false);
});

Deno.test("summarize: means and MiB/s are medians over good runs; ratios to nginx", () => {
  const rows = summarize([
    run("lb", 1, { meanMs: 10, maxMs: 40, mibPerSec: 300, requestsPerSec: 50 }),
    run("lb", 2, { meanMs: 30, maxMs: 90, mibPerSec: 500, requestsPerSec: 70 }),
    run("lb", 3, { failure: "boom", meanMs: 1, maxMs: 1000, requestsPerSec: 0 }),
    run("nginx", 1, { meanMs: 4, maxMs: 8, mibPerSec: 800, requestsPerSec: 200 }),
  ], ["lb", "nginx"]);
  const [lb, nginx] = rows;
  assert.equal(lb.failedRuns, 1);
  assert.equal(lb.meanMs, 20);
  assert.equal(lb.maxMs, 90);
  assert.equal(lb.mibPerSec, 400);
  assert.equal(lb.requestsPerSec, 60);
  assert.equal(lb.requestsVsNginx, 0.3);
  assert.equal(lb.meanVsNginx, 5);
  assert.equal(nginx.meanVsNginx, 1);
});

Deno.test("ratioRows: each front over its relay and over nginx; absent pairs dropped", () => {
  const rows = [
    row("lb", { requestsPerSec: 20_000, p99Ms: 6 }),
    row("relay-listen", { requestsPerSec: 40_000, p99Ms: 3 }),
    row("lb-deno-serve", { requestsPerSec: 15_000, p99Ms: 8 }),
    row("nginx", { requestsPerSec: 80_000, p99Ms: 1.5 }),
  ];
  const ratios = ratioRows("small", rows);
  assert.deepEqual(ratios.map((r) => `${r.of}/${r.over}`), [
    "lb/relay-listen",
    "lb/nginx",
    "lb-deno-serve/nginx",
  ]);
  assert.deepEqual(ratios[0], {
    case: "small",
    of: "lb",
    over: "relay-listen",
    requests: 0.5,
    latency: 2,
    latencyKind: "p99",
  });
  assert.equal(ratios[1].requests, 0.25);
  assert.equal(ratios[2].latency, 8 / 1.5);
});

Deno.test("ratioRows: the mean stands in for p99 where there is none (h2load)", () => {
  const rows = [
    row("lb", { requestsPerSec: 14_000, p50Ms: NaN, p99Ms: NaN, meanMs: 11 }),
    row("nginx", { requestsPerSec: 35_000, p50Ms: NaN, p99Ms: NaN, meanMs: 4.4 }),
  ];
  const [r] = ratioRows("h2", rows);
  assert.equal(r.latencyKind, "mean");
  assert.equal(r.latency, 2.5);
  assert.equal(r.requests, 0.4);
});

Deno.test("ratioRows and rssGoalLines: RSS growth in the big-body cases", () => {
  const rows = [
    row("lb", { rssGrowthMiB: 81.6 }),
    row("lb-deno-serve", { rssGrowthMiB: 12 }),
    row("relay-listen", { rssGrowthMiB: 13.2 }),
    row("relay-serve", { rssGrowthMiB: 58.1 }),
    row("nginx", { rssGrowthMiB: 0.2 }),
  ];
  const ratios = ratioRows("big-download", rows);
  assert.deepEqual(ratios[0].rssGrowthMiB, [81.6, 13.2]);
  assert.deepEqual(ratios[1].rssGrowthMiB, [12, 58.1]);
  assert.deepEqual(rssGoalLines("big-download", rows), [
    "- big-download: lb RSS growth 81.6 MiB (goal ≤ 32 MiB): not met",
    "- big-download: lb-deno-serve RSS growth 12.0 MiB (goal ≤ 32 MiB): met",
  ]);
  assert.deepEqual(rssGoalLines("big-download", rows, 100).map((l) => l.endsWith(": met")), [
    true,
    true,
  ]);
  assert.deepEqual(rssGoalLines("small", [row("lb", {})]), []);
});

Deno.test("ratioTable: names left-aligned, figures right-aligned, — for no figure", () => {
  const table = ratioTable([
    {
      case: "big-upload",
      of: "lb",
      over: "relay-listen",
      requests: 0.8,
      latency: 1.25,
      latencyKind: "p99",
      rssGrowthMiB: [20, 4.25],
    },
    { case: "h2", of: "lb", over: "nginx", requests: NaN, latency: 2, latencyKind: "mean" },
  ]);
  assert.equal(
    table,
    [
      "| case | ratio | req/s | latency | RSS growth MiB |",
      "| --- | --- | ---: | ---: | ---: |",
      "| big-upload | lb / relay-listen | 0.80× | p99 1.25× | 20.0 vs 4.3 |",
      "| h2 | lb / nginx | — | mean 2.00× | — |",
    ].join("\n"),
  );
});

Deno.test("markdownTable, bigTable and h2Table: one row per target", () => {
  const rows = [
    row("lb", {
      requestsPerSec: 2.22,
      mibPerSec: 570.4,
      p50Ms: 1347,
      p99Ms: 3140,
      idleRssMiB: 53.9,
      peakRssMiB: 135.5,
      rssGrowthMiB: 81.6,
      meanMs: 11.1,
      maxMs: 71.6,
      requestsVsNginx: 1.47,
    }),
  ];
  assert.match(markdownTable(rows), /\| lb \| 2 \| 1347 \| 3140 \| 135\.5 \| 0 \| 1\.47× \| — \|/);
  assert.equal(
    bigTable(rows).split("\n")[2],
    "| lb | 2.22 | 570 | 1347 | 3140 | 53.9 | 135.5 | 81.6 | 0 | 1.47× |",
  );
  assert.equal(h2Table(rows).split("\n")[2], "| lb | 2 | 11.1 | 71.6 | 135.5 | 0 | 1.47× | — |");
});

Deno.test("latencySummary: nearest-rank p99, median, mean, max; NaN when empty", () => {
  const xs = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.deepEqual(latencySummary(xs), { meanMs: 100.5, p50Ms: 100.5, p99Ms: 198, maxMs: 200 });
  assert.deepEqual(latencySummary([5, 1, 3]), { meanMs: 3, p50Ms: 3, p99Ms: 5, maxMs: 5 });
  assert.ok(Object.values(latencySummary([])).every(Number.isNaN));
});

Deno.test("parseBigClientOutput: NaN latencies come back from JSON's null; junk is rejected", () => {
  const line = JSON.stringify({
    requests: 0,
    errors: 3,
    durationMs: 51.5,
    bytesSent: 0,
    bytesReceived: 0,
    latency: latencySummary([]),
    firstError: "Connection refused (os error 111)",
  });
  const r = parseBigClientOutput(`${line}\n`);
  assert.equal(r.errors, 3);
  assert.ok(Number.isNaN(r.latency.p99Ms));
  assert.equal(r.firstError, "Connection refused (os error 111)");
  assert.throws(() => parseBigClientOutput("Download https://…\n"), /printed no JSON result/);
  assert.throws(() => parseBigClientOutput('{"requests":1}'), /lacks a field/);
});

Deno.test("bigFigures: rates over the client's whole run, bytes both ways", () => {
  const f = bigFigures({
    requests: 8,
    errors: 1,
    durationMs: 4000,
    bytesSent: 4 * 256 * 1024 * 1024,
    bytesReceived: 4 * 256 * 1024 * 1024,
    latency: { meanMs: 900, p50Ms: 850, p99Ms: 1500, maxMs: 1500 },
  });
  assert.equal(f.requestsPerSec, 2);
  assert.equal(f.mibPerSec, 512);
  assert.equal(f.p99Ms, 1500);
  assert.equal(f.meanMs, 900);
  assert.equal(f.errors, 1);
});
