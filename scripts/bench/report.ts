/**
 * Turns per-run figures into per-target medians and Markdown tables. Pure,
 * so the numbers in docs/benchmarks.md can be recomputed from the JSON.
 *
 * @module
 */

import type { BigClientResult } from "./big_client.ts";
import type { H2loadResult } from "./h2load.ts";
import type { WrkResult } from "./wrk.ts";

/** One measured run (wrk, big_client or h2load) of one target in one case. */
export interface RunRecord {
  readonly case: string;
  readonly round: number;
  readonly target: string;
  /** Why the run produced no figures (wrk failed to start or to parse); absent when it did. */
  readonly failure?: string;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors plus responses with status 400 or more (h2load: failed requests). */
  readonly errors: number;
  /** Peak resident memory of the proxy during the run; absent for `direct`. */
  readonly peakRssMiB?: number;
  /** Resident memory of the proxy just before the run (big-body cases). */
  readonly idleRssMiB?: number;
  /** Average CPUs busy in the proxy's process tree during the run (scripts/bench/cpu.ts). */
  readonly proxyCpus?: number;
  /** Mean latency (big_client, h2load). */
  readonly meanMs?: number;
  /** Largest latency (big_client, h2load). */
  readonly maxMs?: number;
  /** Body MiB moved per second, either way (big-body cases). */
  readonly mibPerSec?: number;
  /** Everything wrk printed, parsed; absent when the run failed or was not wrk's. */
  readonly wrk?: WrkResult;
  /** big_client's result (big-body cases). */
  readonly client?: BigClientResult;
  /** Everything h2load printed, parsed (h2 case). */
  readonly h2load?: H2loadResult;
}

/** One table row: a target's runs in one case, reduced. */
export interface Summary {
  readonly target: string;
  readonly runs: number;
  readonly failedRuns: number;
  /** Medians over the runs that produced figures (NaN when none did). */
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Highest peak over all runs. */
  readonly peakRssMiB?: number;
  /** Lowest idle size over the runs that measured one (big-body cases). */
  readonly idleRssMiB?: number;
  /** Largest peak-minus-idle over the runs that measured both (big-body cases). */
  readonly rssGrowthMiB?: number;
  /** Median CPUs the proxy kept busy, over the runs that produced figures. */
  readonly proxyCpus?: number;
  /** Medians, when the runs have them (big_client, h2load). */
  readonly meanMs?: number;
  readonly mibPerSec?: number;
  /** Largest over all runs (big_client, h2load). */
  readonly maxMs?: number;
  /** Total over all runs. */
  readonly errors: number;
  /** This target's median req/s over nginx's (higher is better); absent without nginx. */
  readonly requestsVsNginx?: number;
  /** This target's median p99 over nginx's (lower is better); absent without nginx. */
  readonly p99VsNginx?: number;
  /** This target's median mean latency over nginx's (lower is better); absent without nginx. */
  readonly meanVsNginx?: number;
}

/** The median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The values `pick` gives for the runs that have one. */
function present(runs: readonly RunRecord[], pick: (r: RunRecord) => number | undefined): number[] {
  return runs.flatMap((r) => {
    const x = pick(r);
    return x === undefined ? [] : [x];
  });
}

function maxOf(xs: readonly number[]): number | undefined {
  return xs.length > 0 ? Math.max(...xs) : undefined;
}

/** The fields only some load generators give, dropped when no run has them. */
function optionalFigures(mine: readonly RunRecord[], ok: readonly RunRecord[]): Partial<Summary> {
  const idle = present(mine, (r) => r.idleRssMiB);
  const growth = present(
    mine,
    (r) =>
      r.idleRssMiB === undefined || r.peakRssMiB === undefined
        ? undefined
        : r.peakRssMiB - r.idleRssMiB,
  );
  const mean = present(ok, (r) => r.meanMs);
  const mib = present(ok, (r) => r.mibPerSec);
  const cpus = present(ok, (r) => r.proxyCpus);
  const figures: Partial<Summary> = {
    idleRssMiB: idle.length > 0 ? Math.min(...idle) : undefined,
    rssGrowthMiB: maxOf(growth),
    meanMs: mean.length > 0 ? median(mean) : undefined,
    mibPerSec: mib.length > 0 ? median(mib) : undefined,
    proxyCpus: cpus.length > 0 ? median(cpus) : undefined,
    maxMs: maxOf(present(ok, (r) => r.maxMs)),
  };
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined));
}

/** Reduces the runs of one case to a row per target, in `targets` order. */
export function summarize(runs: readonly RunRecord[], targets: readonly string[]): Summary[] {
  const rows = targets.flatMap((target): Summary[] => {
    const mine = runs.filter((r) => r.target === target);
    if (mine.length === 0) return [];
    const ok = mine.filter((r) => r.failure === undefined);
    return [{
      target,
      runs: mine.length,
      failedRuns: mine.length - ok.length,
      requestsPerSec: median(ok.map((r) => r.requestsPerSec)),
      p50Ms: median(ok.map((r) => r.p50Ms)),
      p99Ms: median(ok.map((r) => r.p99Ms)),
      peakRssMiB: maxOf(present(mine, (r) => r.peakRssMiB)),
      errors: mine.reduce((n, r) => n + r.errors, 0),
      ...optionalFigures(mine, ok),
    }];
  });
  const nginx = rows.find((r) => r.target === "nginx");
  return rows.map((r) => {
    if (!nginx) return r;
    const vs: Partial<Summary> = {
      requestsVsNginx: r.requestsPerSec / nginx.requestsPerSec,
      p99VsNginx: r.p99Ms / nginx.p99Ms,
    };
    if (r.meanMs !== undefined && nginx.meanMs !== undefined) {
      return { ...r, ...vs, meanVsNginx: r.meanMs / nginx.meanMs };
    }
    return { ...r, ...vs };
  });
}

/** `12,345` for rates. */
function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—";
}

/** Milliseconds with about three significant digits: `0.132`, `3.77`, `540`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** `0.26×`, or "—" when there is no finite ratio. */
export function formatRatio(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "—" : `${x.toFixed(2)}×`;
}

/** MiB with one decimal, or "—". */
export function formatMiB(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(1);
}

function errorsCell(r: Summary): string {
  return r.failedRuns > 0 ? `${r.errors} (${r.failedRuns} runs failed)` : `${r.errors}`;
}

/**
 * A Markdown table whose first `textColumns` columns are names and the
 * rest figures (right-aligned).
 */
export function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns = 1,
): string {
  const align = head.map((_, i) => i < textColumns ? "---" : "---:");
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** A Markdown table of `rows`, one per target (the wrk cases). */
export function markdownTable(rows: readonly Summary[]): string {
  return table(
    [
      "target",
      "req/s",
      "p50 ms",
      "p99 ms",
      "peak RSS MiB",
      "errors",
      "req/s vs nginx",
      "p99 vs nginx",
    ],
    rows.map((r) => [
      r.target,
      count(r.requestsPerSec),
      formatMs(r.p50Ms),
      formatMs(r.p99Ms),
      formatMiB(r.peakRssMiB),
      errorsCell(r),
      formatRatio(r.requestsVsNginx),
      formatRatio(r.p99VsNginx),
    ]),
  );
}

/** A Markdown table for a big-body case: throughput and memory growth over idle. */
export function bigTable(rows: readonly Summary[]): string {
  return table(
    [
      "target",
      "req/s",
      "MiB/s",
      "p50 ms",
      "p99 ms",
      "idle RSS MiB",
      "peak RSS MiB",
      "RSS growth MiB",
      "errors",
      "req/s vs nginx",
    ],
    rows.map((r) => [
      r.target,
      Number.isFinite(r.requestsPerSec) ? r.requestsPerSec.toFixed(2) : "—",
      r.mibPerSec === undefined ? "—" : count(r.mibPerSec),
      formatMs(r.p50Ms),
      formatMs(r.p99Ms),
      formatMiB(r.idleRssMiB),
      formatMiB(r.peakRssMiB),
      formatMiB(r.rssGrowthMiB),
      errorsCell(r),
      formatRatio(r.requestsVsNginx),
    ]),
  );
}

/** A Markdown table for the h2 case (h2load gives mean and max latency, no percentiles). */
export function h2Table(rows: readonly Summary[]): string {
  return table(
    [
      "target",
      "req/s",
      "mean ms",
      "max ms",
      "peak RSS MiB",
      "errors",
      "req/s vs nginx",
      "mean vs nginx",
    ],
    rows.map((r) => [
      r.target,
      count(r.requestsPerSec),
      formatMs(r.meanMs ?? NaN),
      formatMs(r.maxMs ?? NaN),
      formatMiB(r.peakRssMiB),
      errorsCell(r),
      formatRatio(r.requestsVsNginx),
      formatRatio(r.meanVsNginx),
    ]),
  );
}
