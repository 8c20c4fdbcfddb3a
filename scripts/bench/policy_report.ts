/**
 * What the `lb+<policy>` targets cost, against `lb` in the same run: req/s
 * and p99 ratios, and the proxy's CPU time per request with the part the
 * policy added. Pure, so the figures in docs/benchmarks.md can be
 * recomputed from the JSON.
 *
 * CPU per request is the proxy's CPU seconds over the requests it served
 * (scripts/bench/cpu.ts's figure over req/s): on a machine where wrk and
 * the backends share the cores it moves less with their load than req/s
 * does, so the added microseconds are the steadier measure of a cheap
 * policy.
 *
 * @module
 */

import type { RatioPair } from "./ratios.ts";
import { formatMs, formatRatio, type Summary, table } from "./report.ts";

/** The target every policy variant is compared with. */
export const POLICY_BASELINE = "lb";

/** Whether a table name is a policy variant's (`lb+ip`, `lb+all`). */
export function isPolicyTarget(name: string): boolean {
  return name.startsWith(`${POLICY_BASELINE}+`);
}

/** `lb+<policy>` / `lb` for each variant label, for the Ratios table. */
export function policyRatioPairs(labels: readonly string[]): RatioPair[] {
  return labels.filter(isPolicyTarget).map((of) => ({ of, over: POLICY_BASELINE }));
}

/** Microseconds of proxy CPU per request, or undefined without a CPU figure. */
export function cpuMicrosPerRequest(r: Summary): number | undefined {
  return r.proxyCpus === undefined || !(r.requestsPerSec > 0)
    ? undefined
    : r.proxyCpus / r.requestsPerSec * 1e6;
}

/** One policy variant in one case, against `lb`. */
export interface PolicyCostRow {
  readonly case: string;
  readonly target: string;
  readonly requestsPerSec: number;
  /** Over lb's: below 1 is the policy's cost. */
  readonly requestsRatio: number;
  readonly p99Ms: number;
  /** Over lb's: above 1 is the policy's cost. */
  readonly p99Ratio: number;
  readonly cpuMicros?: number;
  /** cpuMicros minus lb's: what the policy added per request. */
  readonly addedCpuMicros?: number;
  readonly errors: number;
}

/** The cost rows of one case: `lb` first (ratios 1), then each variant that ran; none without lb. */
export function policyCostRows(caseName: string, rows: readonly Summary[]): PolicyCostRow[] {
  const lb = rows.find((r) => r.target === POLICY_BASELINE);
  if (!lb) return [];
  const lbCpu = cpuMicrosPerRequest(lb);
  return rows.filter((r) => r === lb || isPolicyTarget(r.target)).map((r) => {
    const cpu = cpuMicrosPerRequest(r);
    const row: PolicyCostRow = {
      case: caseName,
      target: r.target,
      requestsPerSec: r.requestsPerSec,
      requestsRatio: r.requestsPerSec / lb.requestsPerSec,
      p99Ms: r.p99Ms,
      p99Ratio: r.p99Ms / lb.p99Ms,
      errors: r.errors,
    };
    if (cpu === undefined) return row;
    return lbCpu === undefined
      ? { ...row, cpuMicros: cpu }
      : { ...row, cpuMicros: cpu, addedCpuMicros: cpu - lbCpu };
  });
}

/** `+3.2`, `-0.4`, or "—". */
function signed(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x < 0 ? `-${(-x).toFixed(1)}` : `+${x.toFixed(1)}`;
}

/** A Markdown table of cost rows, any number of cases. */
export function policyCostTable(rows: readonly PolicyCostRow[]): string {
  return table(
    [
      "case",
      "target",
      "req/s",
      "req/s vs lb",
      "p99 ms",
      "p99 vs lb",
      "CPU µs/req",
      "added µs/req",
      "errors",
    ],
    rows.map((r) => [
      r.case,
      r.target,
      Number.isFinite(r.requestsPerSec)
        ? Math.round(r.requestsPerSec).toLocaleString("en-US")
        : "—",
      formatRatio(r.requestsRatio),
      formatMs(r.p99Ms),
      formatRatio(r.p99Ratio),
      r.cpuMicros === undefined || !Number.isFinite(r.cpuMicros) ? "—" : r.cpuMicros.toFixed(1),
      r.target === POLICY_BASELINE ? "—" : signed(r.addedCpuMicros),
      String(r.errors),
    ]),
    2,
  );
}

/** The metric families that show what the policies did (lib/metrics/lb_metrics.ts). */
export const POLICY_METRIC_FAMILIES = [
  "lb_policy_denied_total",
  "lb_rate_limit_store_errors_total",
  "lb_rate_limit_keys",
  "lb_forward_auth_requests_total",
  "lb_compressed_responses_total",
  "lb_compression_bytes_total",
  "lb_trace_spans_total",
  "lb_access_log_events_total",
] as const;

/**
 * The non-zero samples of {@link POLICY_METRIC_FAMILIES} in a Prometheus
 * text exposition, as written (`name{labels} value`).
 */
export function policyMetricLines(text: string): string[] {
  return text.split("\n").filter((line) => {
    if (line.startsWith("#") || line.trim() === "") return false;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name || !(POLICY_METRIC_FAMILIES as readonly string[]).includes(name)) return false;
    const value = Number(line.trim().split(/\s+/).at(-1));
    return value !== 0;
  });
}

/** The "what they did" lines of the report: each policy target's non-zero policy metrics. */
export function evidenceLines(evidence: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.entries(evidence).map(([target, lines]) =>
    `- ${target}: ${lines.length > 0 ? lines.join("; ") : "no policy metric above 0"}`
  );
}

/** Table order: the policy variants right after `lb` (or last, where lb is not among `names`). */
export function withPolicyTargets(names: readonly string[], labels: readonly string[]): string[] {
  const at = names.indexOf(POLICY_BASELINE);
  if (at < 0) return [...names, ...labels];
  return [...names.slice(0, at + 1), ...labels, ...names.slice(at + 1)];
}

/** The printed "Edge policies" section: cost per case, then what each policy did. */
export function policySection(
  summaries: readonly (readonly [string, readonly Summary[]])[],
  evidence: Readonly<Record<string, readonly string[]>>,
  note: string,
): string {
  const rows = summaries.flatMap(([c, s]) => policyCostRows(c, s));
  if (!rows.some((r) => isPolicyTarget(r.target))) return "";
  const parts = [
    "## Edge policies\n",
    `Each lb+<policy> against lb in the same rounds; CPU µs/req is the proxy's CPU time per ` +
    `request, added µs/req that minus lb's; ${note}.\n`,
    `${policyCostTable(rows)}\n`,
  ];
  const lines = evidenceLines(evidence);
  if (lines.length > 0) {
    parts.push(`What each did (its policy metrics at the end):\n\n${lines.join("\n")}\n`);
  }
  return parts.join("\n");
}
