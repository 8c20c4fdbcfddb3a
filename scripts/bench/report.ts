/**
 * Turns per-run figures into per-target medians and Markdown tables. Pure,
 * so the numbers in docs/benchmarks.md can be recomputed from the JSON.
 *
 * @module
 */

import type { WrkResult } from "./wrk.ts";

/** One measured wrk run of one target in one case. */
export interface RunRecord {
  readonly case: string;
  readonly round: number;
  readonly target: string;
  /** Why the run produced no figures (wrk failed to start or to parse); absent when it did. */
  readonly failure?: string;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors plus responses with status 400 or more. */
  readonly errors: number;
  /** Peak resident memory of the proxy during the run; absent for `direct`. */
  readonly peakRssMiB?: number;
  /** Everything wrk printed, parsed; absent when the run failed. */
  readonly wrk?: WrkResult;
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
  /** Total over all runs. */
  readonly errors: number;
  /** This target's median req/s over nginx's (higher is better); absent without nginx. */
  readonly requestsVsNginx?: number;
  /** This target's median p99 over nginx's (lower is better); absent without nginx. */
  readonly p99VsNginx?: number;
}

/** The median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Reduces the runs of one case to a row per target, in `targets` order. */
export function summarize(runs: readonly RunRecord[], targets: readonly string[]): Summary[] {
  const rows = targets.flatMap((target) => {
    const mine = runs.filter((r) => r.target === target);
    if (mine.length === 0) return [];
    const ok = mine.filter((r) => r.failure === undefined);
    const rss = mine.flatMap((r) => r.peakRssMiB === undefined ? [] : [r.peakRssMiB]);
    return [{
      target,
      runs: mine.length,
      failedRuns: mine.length - ok.length,
      requestsPerSec: median(ok.map((r) => r.requestsPerSec)),
      p50Ms: median(ok.map((r) => r.p50Ms)),
      p99Ms: median(ok.map((r) => r.p99Ms)),
      peakRssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
      errors: mine.reduce((n, r) => n + r.errors, 0),
    }];
  });
  const nginx = rows.find((r) => r.target === "nginx");
  return rows.map((r) =>
    nginx
      ? {
        ...r,
        requestsVsNginx: r.requestsPerSec / nginx.requestsPerSec,
        p99VsNginx: r.p99Ms / nginx.p99Ms,
      }
      : r
  );
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

function ratio(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "—" : `${x.toFixed(2)}×`;
}

/** A Markdown table of `rows`, one per target. */
export function markdownTable(rows: readonly Summary[]): string {
  const head = [
    "| target | req/s | p50 ms | p99 ms | peak RSS MiB | errors | req/s vs nginx | p99 vs nginx |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const lines = rows.map((r) => {
    const errors = r.failedRuns > 0 ? `${r.errors} (${r.failedRuns} runs failed)` : `${r.errors}`;
    const cells = [
      r.target,
      count(r.requestsPerSec),
      formatMs(r.p50Ms),
      formatMs(r.p99Ms),
      r.peakRssMiB === undefined ? "—" : r.peakRssMiB.toFixed(1),
      errors,
      ratio(r.requestsVsNginx),
      ratio(r.p99VsNginx),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [...head, ...lines].join("\n");
}
