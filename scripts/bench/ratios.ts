/**
 * The comparisons the benchmark exists for, as ratios of per-target
 * medians: each lb front over its ceiling relay (what the lb's own work
 * costs above the runtime's floor), and each lb over NGINX. Pure, so the
 * ratios in docs/benchmarks.md can be recomputed from the JSON.
 *
 * @module
 */

import { formatMiB, formatRatio, type Summary, table } from "./report.ts";

/** `of` / `over`: two target names. */
export interface RatioPair {
  readonly of: string;
  readonly over: string;
}

/** The ratios reported, in order; a pair is left out where either target did not run. */
export const RATIO_PAIRS: readonly RatioPair[] = [
  { of: "lb", over: "relay-listen" },
  { of: "lb-routes", over: "lb" },
  { of: "lb-routes", over: "relay-listen" },
  { of: "lb-deno-serve", over: "relay-serve" },
  { of: "lb", over: "nginx" },
  { of: "lb-deno-serve", over: "nginx" },
  { of: "lb-node-http", over: "nginx" },
];

/** One ratio line. */
export interface RatioRow {
  readonly case: string;
  readonly of: string;
  readonly over: string;
  /** Median req/s of `of` over `over`'s: above 1 is faster. */
  readonly requests: number;
  /** Latency of `of` over `over`'s: below 1 is quicker. */
  readonly latency: number;
  /** Which latency: p99, or the mean where the load generator gives no percentiles (h2load). */
  readonly latencyKind: "p99" | "mean";
  /** RSS growth over idle of `of` and of `over`, MiB, in the big-body cases. */
  readonly rssGrowthMiB?: readonly [number, number];
}

/** The ratio rows of one case, from its summary rows. */
export function ratioRows(
  caseName: string,
  rows: readonly Summary[],
  pairs: readonly RatioPair[] = RATIO_PAIRS,
): RatioRow[] {
  const byName = new Map(rows.map((r) => [r.target, r]));
  return pairs.flatMap(({ of, over }) => {
    const a = byName.get(of);
    const b = byName.get(over);
    if (!a || !b) return [];
    const p99 = a.p99Ms / b.p99Ms;
    const usesMean = !Number.isFinite(p99) && a.meanMs !== undefined && b.meanMs !== undefined;
    const row: RatioRow = {
      case: caseName,
      of,
      over,
      requests: a.requestsPerSec / b.requestsPerSec,
      latency: usesMean ? a.meanMs! / b.meanMs! : p99,
      latencyKind: usesMean ? "mean" : "p99",
    };
    if (a.rssGrowthMiB !== undefined && b.rssGrowthMiB !== undefined) {
      return [{ ...row, rssGrowthMiB: [a.rssGrowthMiB, b.rssGrowthMiB] as const }];
    }
    return [row];
  });
}

/** A Markdown table of ratio rows, any number of cases. */
export function ratioTable(rows: readonly RatioRow[]): string {
  return table(
    ["case", "ratio", "req/s", "latency", "RSS growth MiB"],
    rows.map((r) => [
      r.case,
      `${r.of} / ${r.over}`,
      formatRatio(r.requests),
      `${r.latencyKind} ${formatRatio(r.latency)}`,
      r.rssGrowthMiB ? `${formatMiB(r.rssGrowthMiB[0])} vs ${formatMiB(r.rssGrowthMiB[1])}` : "—",
    ]),
    2,
  );
}

/** The memory goal for a big body through the lb. */
export const LB_RSS_GROWTH_GOAL_MIB = 32;

/**
 * One line per lb target (a name starting `lb`) with an RSS growth in this
 * case, saying whether it is within {@link LB_RSS_GROWTH_GOAL_MIB}.
 */
export function rssGoalLines(
  caseName: string,
  rows: readonly Summary[],
  goalMiB = LB_RSS_GROWTH_GOAL_MIB,
): string[] {
  return rows.flatMap((r) => {
    if (!r.target.startsWith("lb") || r.rssGrowthMiB === undefined) return [];
    const met = r.rssGrowthMiB <= goalMiB ? "met" : "not met";
    return [
      `- ${caseName}: ${r.target} RSS growth ${formatMiB(r.rssGrowthMiB)} MiB ` +
      `(goal ≤ ${goalMiB} MiB): ${met}`,
    ];
  });
}
