/**
 * What `--workers` adds to a benchmark: the worker variants of `lb` and
 * `nginx` (`lb-w2`, `nginx-w2`), the ratios between them, the scaling goal
 * (on N free cores, N workers give at least 0.8·N × one worker), and the
 * memory each added worker costs. Pure, so the figures in
 * docs/benchmarks.md can be recomputed from the JSON.
 *
 * Scaling is only judged where the proxy had N cores to itself: with
 * `--pin` and at least N CPUs on the proxy's side. Unpinned, the proxy
 * shares every core with wrk and the backends, so 2 workers against 1 shows
 * what a second worker buys on a busy machine, not how the lb scales.
 *
 * @module
 */

import { workerLabel } from "./proxies.ts";
import type { RatioPair } from "./ratios.ts";
import { formatMiB, formatRatio, type Summary } from "./report.ts";
import { type TargetName, WORKER_TARGETS } from "./targets.ts";

/** One target to start: its kind, its worker count and its name in the tables. */
export interface TargetSpec {
  readonly name: TargetName;
  readonly workers: number;
  readonly label: string;
}

/**
 * The targets a run starts, in table order: each of the
 * {@link WORKER_TARGETS} once per worker count (`lb`, `lb-w2`, …), every
 * other target once.
 */
export function targetSpecs(
  targets: readonly TargetName[],
  workers: readonly number[],
): TargetSpec[] {
  return targets.flatMap((name) =>
    WORKER_TARGETS.includes(name)
      ? workers.map((w) => ({ name, workers: w, label: workerLabel(name, w) }))
      : [{ name, workers: 1, label: name }]
  );
}

/**
 * For each worker count above 1: lb-wN / lb and nginx-wN / nginx (what N
 * workers give against one) and lb-wN / nginx-wN (the lb against NGINX at
 * the same worker count).
 */
export function workerRatioPairs(workers: readonly number[]): RatioPair[] {
  return workers.filter((n) => n > 1).flatMap((n) => [
    { of: `lb-w${n}`, over: "lb" },
    { of: `nginx-w${n}`, over: "nginx" },
    { of: `lb-w${n}`, over: `nginx-w${n}` },
  ]);
}

/** The target: on N free cores, N workers do at least this × N × one worker. */
export const SCALING_GOAL_PER_WORKER = 0.8;

/** Where the proxy ran, for judging the scaling goal. */
export interface Cores {
  /** Whether the load and the proxy were pinned apart (`--pin`). */
  readonly pinned: boolean;
  /** CPUs the proxy had to itself when pinned. */
  readonly proxyCpus: number;
  /** CPUs the whole benchmark could use. */
  readonly machineCpus: number;
}

/**
 * Whether `workers` workers had free cores to scale on, or why not; the
 * goal is judged only where this is undefined.
 */
export function whyNotFree(workers: number, cores: Cores): string | undefined {
  if (!cores.pinned) {
    return `the proxy shares the ${cores.machineCpus} CPUs with wrk and the backends (unpinned)`;
  }
  if (cores.proxyCpus < workers) {
    return `the proxy has ${cores.proxyCpus} CPU(s) to itself (pinned), fewer than ${workers}`;
  }
  return undefined;
}

/** Median req/s of `of` over `over`'s in `rows`; undefined unless both ran. */
export function requestsRatio(
  rows: readonly Summary[],
  of: string,
  over: string,
): number | undefined {
  const a = rows.find((r) => r.target === of);
  const b = rows.find((r) => r.target === over);
  return a && b ? a.requestsPerSec / b.requestsPerSec : undefined;
}

/**
 * One line per worker count above 1: lb-wN / lb against the goal (judged
 * only on free cores), with nginx-wN / nginx beside it for reference.
 */
export function scalingLines(
  caseName: string,
  rows: readonly Summary[],
  workers: readonly number[],
  cores: Cores,
): string[] {
  return workers.filter((n) => n > 1).flatMap((n) => {
    const lb = requestsRatio(rows, `lb-w${n}`, "lb");
    if (lb === undefined) return [];
    const nginx = requestsRatio(rows, `nginx-w${n}`, "nginx");
    const goal = SCALING_GOAL_PER_WORKER * n;
    const reference = nginx === undefined ? "" : `, nginx-w${n} / nginx ${formatRatio(nginx)}`;
    const why = whyNotFree(n, cores);
    const verdict = why ? `not assessable: ${why}` : lb >= goal ? "met" : "not met";
    return [
      `- ${caseName}: lb-w${n} / lb ${formatRatio(lb)}${reference} ` +
      `(goal ≥ ${formatRatio(goal)} on ${n} free cores): ${verdict}`,
    ];
  });
}

/** What one added worker costs: (rss(N workers) − rss(1 worker)) / (N − 1). */
export function perWorkerMiB(oneWorkerMiB: number, nWorkersMiB: number, workers: number): number {
  return (nWorkersMiB - oneWorkerMiB) / (workers - 1);
}

/**
 * `+35.5` or `-21.6`: an added worker can cost less than nothing, where one
 * worker (serving on the main thread, with V8's default heap sizes) grows a
 * larger heap than several workers with their own limits.
 */
export function signedMiB(x: number): string {
  return x < 0 ? `-${formatMiB(-x)}` : `+${formatMiB(x)}`;
}

/** The lb's memory goal: total RSS with this many workers in this case. */
export const LB_WORKERS_RSS_GOAL = { case: "c1000", workers: 2, mib: 160 } as const;

/**
 * For lb and nginx, per worker count above 1: the peak RSS with one worker
 * and with N, and the difference per added worker; for the lb in
 * {@link LB_WORKERS_RSS_GOAL}'s case, the total against the goal. NGINX's
 * figure sums `VmRSS` over its processes, counting shared pages once per
 * worker; the lb's workers are threads of one process, counted once.
 */
export function memoryLines(
  caseName: string,
  rows: readonly Summary[],
  workers: readonly number[],
  goal: { readonly case: string; readonly workers: number; readonly mib: number } =
    LB_WORKERS_RSS_GOAL,
): string[] {
  const peak = (t: string) => rows.find((r) => r.target === t)?.peakRssMiB;
  return WORKER_TARGETS.flatMap((base) =>
    workers.filter((n) => n > 1).flatMap((n) => {
      const [one, many] = [peak(base), peak(`${base}-w${n}`)];
      if (many === undefined) return [];
      const added = one === undefined ? "" : `1 worker ${formatMiB(one)} MiB, ` +
        `${signedMiB(perWorkerMiB(one, many, n))} MiB per added worker, `;
      const judged = base === "lb" && caseName === goal.case && n === goal.workers;
      const verdict = judged
        ? ` (goal ≤ ${goal.mib} MiB): ${many <= goal.mib ? "met" : "not met"}`
        : "";
      return [
        `- ${caseName}: ${base} peak RSS ${added}${n} workers ${formatMiB(many)} MiB${verdict}`,
      ];
    })
  );
}

/** The same for each target's idle RSS right after it started (`Target.startRssMiB`). */
export function idleMemoryLines(
  startRssMiB: Readonly<Record<string, number | undefined>>,
  workers: readonly number[],
): string[] {
  return WORKER_TARGETS.flatMap((base) =>
    workers.filter((n) => n > 1).flatMap((n) => {
      const [one, many] = [startRssMiB[base], startRssMiB[`${base}-w${n}`]];
      if (one === undefined || many === undefined) return [];
      return [
        `- idle after start: ${base} 1 worker ${formatMiB(one)} MiB, ${n} workers ` +
        `${formatMiB(many)} MiB: ${signedMiB(perWorkerMiB(one, many, n))} MiB per added worker`,
      ];
    })
  );
}

/** Everything {@link workerReport} needs. */
export interface WorkerReportInput {
  /** Measured cases, in order, with their summary rows. */
  readonly summaries: readonly (readonly [string, readonly Summary[]])[];
  readonly workers: readonly number[];
  readonly cores: Cores;
  /** Table name → RSS right after start, MiB. */
  readonly startRssMiB: Readonly<Record<string, number | undefined>>;
}

/** The "Workers" section of the printed report; empty when only one worker count ran. */
export function workerReport(i: WorkerReportInput): string {
  if (!i.workers.some((n) => n > 1)) return "";
  const scaling = i.summaries.flatMap(([c, rows]) => scalingLines(c, rows, i.workers, i.cores));
  const memory = [
    ...idleMemoryLines(i.startRssMiB, i.workers),
    ...i.summaries.flatMap(([c, rows]) => memoryLines(c, rows, i.workers)),
  ];
  const parts = ["## Workers\n"];
  if (scaling.length > 0) parts.push(`Throughput against one worker:\n\n${scaling.join("\n")}\n`);
  if (memory.length > 0) parts.push(`Memory per worker:\n\n${memory.join("\n")}\n`);
  return parts.join("\n");
}
