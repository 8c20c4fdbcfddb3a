/**
 * The proxy's CPU figure: reading `/proc/<pid>/stat`, metering a process
 * tree over a run, and the per-CPU lines of the report.
 */

import assert from "node:assert/strict";
import {
  cpuLines,
  CpuMeter,
  cpuSeconds,
  parseStatTicks,
  requestsPerCpu,
} from "../scripts/bench/cpu.ts";
import { type RunRecord, summarize, type Summary } from "../scripts/bench/report.ts";

function row(target: string, requestsPerSec: number, proxyCpus?: number): Summary {
  return {
    target,
    runs: 3,
    failedRuns: 0,
    requestsPerSec,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    ...(proxyCpus === undefined ? {} : { proxyCpus }),
  };
}

Deno.test("parseStatTicks: utime + stime, counted from the last parenthesis", () => {
  // Real `cat /proc/self/stat` output, with utime 7 and stime 3 put in.
  const cat = "24984 (cat) R 24981 24981 16018 0 -1 4194304 99 0 0 0 7 3 0 0 20 0 1 0 1543078";
  assert.equal(parseStatTicks(cat), 10);
  // A command name with spaces and a ")" in it does not shift the fields.
  const odd = "77 (we ird) (x)) S 1 77 77 0 -1 4194560 5 0 0 0 120 30 0 0 20 0 9 0 1";
  assert.equal(parseStatTicks(odd), 150);
  assert.throws(() => parseStatTicks("garbage"), /not a \/proc\/<pid>\/stat line/);
});

Deno.test("cpuSeconds and CpuMeter: a busy loop in this process is about one CPU", () => {
  assert.ok(cpuSeconds([Deno.pid]) > 0);
  assert.equal(cpuSeconds([2 ** 22 + 12345]), 0, "a pid that does not exist counts 0");
  const meter = new CpuMeter(() => [Deno.pid]);
  const until = performance.now() + 300;
  let spins = 0;
  while (performance.now() < until) spins++;
  const cpus = meter.stop();
  assert.ok(spins > 0);
  // Clock ticks are 10 ms, and a noisy machine may deschedule us: a wide band.
  assert.ok(cpus > 0.5 && cpus < 1.6, `busy loop measured ${cpus} CPUs`);
});

Deno.test("cpuLines: req/s per CPU, the lb against nginx at the same worker count", () => {
  const rows = [
    row("lb", 18_000, 0.9),
    row("lb-w2", 18_000, 1),
    row("relay-listen", 30_000),
    row("nginx", 45_000, 0.75),
    row("nginx-w2", 42_000, 0.7),
  ];
  assert.equal(requestsPerCpu(rows[0]), 20_000);
  assert.equal(requestsPerCpu(rows[2]), undefined);
  assert.equal(requestsPerCpu(row("x", 1, 0)), undefined);
  assert.deepEqual(cpuLines("small", rows), [
    "- small: lb 18,000 req/s on 0.90 CPUs: 20,000 req/s per CPU, 0.33× nginx's",
    "- small: lb-w2 18,000 req/s on 1.00 CPUs: 18,000 req/s per CPU, 0.30× nginx-w2's",
    "- small: nginx 45,000 req/s on 0.75 CPUs: 60,000 req/s per CPU",
    "- small: nginx-w2 42,000 req/s on 0.70 CPUs: 60,000 req/s per CPU",
  ]);
  // lb-routes is not compared with anything.
  assert.doesNotMatch(cpuLines("small", [row("lb-routes", 1, 1), row("nginx", 1, 1)])[0], /nginx/);
});

Deno.test("summarize: the CPU figure is the median over the runs that produced figures", () => {
  const base = { case: "small", target: "lb", p50Ms: 1, p99Ms: 2, errors: 0 };
  const runs: RunRecord[] = [
    { ...base, round: 1, requestsPerSec: 10, proxyCpus: 0.9 },
    { ...base, round: 2, requestsPerSec: 12, proxyCpus: 1.0 },
    { ...base, round: 3, requestsPerSec: 0, proxyCpus: 0.1, failure: "wrk exited 1" },
    { ...base, round: 4, requestsPerSec: 11, proxyCpus: 0.95 },
  ];
  const [lb] = summarize(runs, ["lb"]);
  assert.equal(lb.proxyCpus, 0.95);
  assert.equal(
    "proxyCpus" in summarize([{ ...base, round: 1, requestsPerSec: 1 }], ["lb"])[0],
    false,
  );
});
