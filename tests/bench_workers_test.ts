/**
 * `deno task bench --workers` and `--pin` without running anything: the
 * flags, the targets they add, NGINX's config per worker count, and the
 * ratios, scaling verdicts and memory-per-worker lines of the report.
 */

import assert from "node:assert/strict";
import { UsageError } from "../lib/config/cli.ts";
import { nginxProxyConfig } from "../scripts/bench/configs.ts";
import { parseOptions } from "../scripts/bench/options.ts";
import { RATIO_PAIRS, ratioRows } from "../scripts/bench/ratios.ts";
import type { Summary } from "../scripts/bench/report.ts";
import {
  type Cores,
  idleMemoryLines,
  memoryLines,
  perWorkerMiB,
  scalingLines,
  signedMiB,
  targetSpecs,
  whyNotFree,
  workerRatioPairs,
  workerReport,
} from "../scripts/bench/workers.ts";

/** A summary row with only what the worker lines need. */
function row(target: string, requestsPerSec: number, peakRssMiB?: number): Summary {
  return {
    target,
    runs: 3,
    failedRuns: 0,
    requestsPerSec,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    ...(peakRssMiB === undefined ? {} : { peakRssMiB }),
  };
}

function problems(args: string[]): string[] {
  try {
    parseOptions(args);
  } catch (err) {
    if (err instanceof UsageError) return [...err.problems];
    throw err;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

const UNPINNED: Cores = { pinned: false, proxyCpus: 0, machineCpus: 2 };
const PINNED_ONE: Cores = { pinned: true, proxyCpus: 1, machineCpus: 2 };
const PINNED_TWO: Cores = { pinned: true, proxyCpus: 2, machineCpus: 4 };

Deno.test("parseOptions: one worker and no pinning unless asked (today's behaviour)", () => {
  const o = parseOptions([]);
  assert.ok(o !== "help");
  assert.deepEqual(o.workers, [1]);
  assert.equal(o.pin, false);
  assert.equal(parseOptions(["--help"]), "help");
});

Deno.test("parseOptions: --workers is ascending counts, each once; --pin is a switch", () => {
  const o = parseOptions(["--workers", " 2,1,2 ", "--pin", "--targets", "nginx,lb"]);
  assert.ok(o !== "help");
  assert.deepEqual(o.workers, [1, 2]);
  assert.equal(o.pin, true);
  assert.deepEqual(o.targets, ["lb", "nginx"]);
});

Deno.test("parseOptions: bad worker counts are named, with every other problem", () => {
  assert.deepEqual(problems(["--workers", "0,x", "--rounds", "0"]).length, 3);
  for (const p of problems(["--workers", "0,x"])) assert.match(p, /^--workers: /);
  assert.deepEqual(problems(["--workers", ","]), [
    "--workers: names no worker count (expected e.g. 1,2)",
  ]);
  assert.match(problems(["--workers", "65"])[0], /^--workers: /);
  assert.deepEqual(problems(["--workers", "2", "--targets", "relay-listen"]), [
    "--workers: applies to lb and nginx, and --targets has neither",
  ]);
  assert.match(problems(["--pin=yes"])[0], /--pin: takes no value/);
});

Deno.test("targetSpecs: lb and nginx once per worker count, right after each other", () => {
  const specs = targetSpecs(["direct", "lb", "relay-listen", "nginx"], [1, 2, 4]);
  assert.deepEqual(specs.map((s) => s.label), [
    "direct",
    "lb",
    "lb-w2",
    "lb-w4",
    "relay-listen",
    "nginx",
    "nginx-w2",
    "nginx-w4",
  ]);
  assert.deepEqual(specs[2], { name: "lb", workers: 2, label: "lb-w2" });
  // Without 1 in the list, only the variants.
  assert.deepEqual(targetSpecs(["lb", "haproxy"], [2]).map((s) => s.label), ["lb-w2", "haproxy"]);
  assert.deepEqual(targetSpecs(["lb"], [1]), [{ name: "lb", workers: 1, label: "lb" }]);
});

Deno.test("nginxProxyConfig: worker_processes N, and reuseport above one worker", () => {
  const upstreams = ["127.0.0.1:1"];
  const one = nginxProxyConfig("/p", { port: 7, upstreams });
  assert.match(one, /^worker_processes 1;$/m);
  assert.match(one, /listen 127\.0\.0\.1:7 backlog=4096;/);
  const two = nginxProxyConfig("/p", { port: 7, upstreams, workers: 2 });
  assert.match(two, /^worker_processes 2;$/m);
  assert.match(two, /listen 127\.0\.0\.1:7 backlog=4096 reuseport;/);
  const tls = { certFile: "/c.pem", keyFile: "/k.pem" };
  const h2 = nginxProxyConfig("/p", { port: 8, upstreams, tls, workers: 4 });
  assert.match(h2, /^worker_processes 4;$/m);
  assert.match(h2, /listen 127\.0\.0\.1:8 ssl http2 backlog=4096 reuseport;/);
});

Deno.test("workerRatioPairs and ratioRows: wN over one worker, lb-wN over nginx-wN", () => {
  assert.deepEqual(workerRatioPairs([1]), []);
  const pairs = workerRatioPairs([1, 2]);
  assert.deepEqual(pairs.map((p) => `${p.of}/${p.over}`), [
    "lb-w2/lb",
    "nginx-w2/nginx",
    "lb-w2/nginx-w2",
  ]);
  const rows = [row("lb", 20_000), row("lb-w2", 30_000), row("nginx", 40_000)];
  const ratios = ratioRows("small", rows, [...RATIO_PAIRS, ...pairs]);
  // nginx-w2 did not run: its pairs are left out; lb / nginx stays first.
  assert.deepEqual(ratios.map((r) => `${r.of}/${r.over}`), ["lb/nginx", "lb-w2/lb"]);
  assert.equal(ratios[0].requests, 0.5);
  assert.equal(ratios[1].requests, 1.5);
});

Deno.test("whyNotFree: only pinned with N CPUs on the proxy's side is N free cores", () => {
  assert.match(whyNotFree(2, UNPINNED)!, /shares the 2 CPUs with wrk and the backends/);
  assert.match(whyNotFree(2, PINNED_ONE)!, /has 1 CPU\(s\) to itself \(pinned\), fewer than 2/);
  assert.equal(whyNotFree(1, PINNED_ONE), undefined);
  assert.equal(whyNotFree(2, PINNED_TWO), undefined);
});

Deno.test("scalingLines: lb-wN / lb against 0.8·N, judged only on free cores", () => {
  const rows = [
    row("lb", 10_000),
    row("lb-w2", 17_000),
    row("nginx", 40_000),
    row("nginx-w2", 70_000),
  ];
  assert.deepEqual(scalingLines("small", rows, [1, 2], PINNED_TWO), [
    "- small: lb-w2 / lb 1.70×, nginx-w2 / nginx 1.75× (goal ≥ 1.60× on 2 free cores): met",
  ]);
  const slow = [row("lb", 10_000), row("lb-w2", 15_000)];
  assert.deepEqual(scalingLines("c1000", slow, [1, 2], PINNED_TWO), [
    "- c1000: lb-w2 / lb 1.50× (goal ≥ 1.60× on 2 free cores): not met",
  ]);
  assert.match(scalingLines("small", rows, [1, 2], UNPINNED)[0], /: not assessable: the proxy/);
  // No line without both lb and lb-wN.
  assert.deepEqual(scalingLines("small", [row("lb-w2", 1)], [2], UNPINNED), []);
});

Deno.test("perWorkerMiB and memoryLines: the added worker's cost, the total against 160 MiB", () => {
  assert.equal(perWorkerMiB(100, 130, 2), 30);
  assert.equal(perWorkerMiB(100, 190, 4), 30);
  assert.equal(signedMiB(perWorkerMiB(190, 165, 2)), "-25.0");
  assert.equal(signedMiB(0), "+0.0");
  const rows = [
    row("lb", 1, 95.5),
    row("lb-w2", 1, 131),
    row("nginx", 1, 10),
    row("nginx-w2", 1, 14.5),
  ];
  assert.deepEqual(memoryLines("c1000", rows, [1, 2]), [
    "- c1000: lb peak RSS 1 worker 95.5 MiB, +35.5 MiB per added worker, 2 workers 131.0 MiB " +
    "(goal ≤ 160 MiB): met",
    "- c1000: nginx peak RSS 1 worker 10.0 MiB, +4.5 MiB per added worker, 2 workers 14.5 MiB",
  ]);
  // The goal is for c1000 only; over it, "not met"; without one worker, the total alone.
  assert.doesNotMatch(memoryLines("small", rows, [1, 2])[0], /goal/);
  assert.match(
    memoryLines("c1000", [row("lb-w2", 1, 170)], [2])[0],
    /^- c1000: lb peak RSS 2 workers 170\.0 MiB \(goal ≤ 160 MiB\): not met$/,
  );
  assert.deepEqual(
    idleMemoryLines({ lb: 50, "lb-w2": 72.25, nginx: 8 }, [1, 2]),
    ["- idle after start: lb 1 worker 50.0 MiB, 2 workers 72.3 MiB: +22.3 MiB per added worker"],
  );
});

Deno.test("workerReport: a Workers section with both kinds of line; nothing for one worker", () => {
  const summaries = [["c1000", [row("lb", 10, 90), row("lb-w2", 15, 120)]]] as const;
  const input = { summaries, workers: [1, 2], cores: UNPINNED, startRssMiB: {} };
  const text = workerReport(input);
  assert.match(text, /^## Workers\n/);
  assert.match(text, /Throughput against one worker:\n\n- c1000: lb-w2 \/ lb 1\.50×/);
  assert.match(text, /Memory per worker:\n\n- c1000: lb peak RSS 1 worker 90\.0 MiB/);
  assert.equal(workerReport({ ...input, workers: [1] }), "");
});
