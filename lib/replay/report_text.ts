/**
 * A {@link ReplayReport} as text for people: the summary, the share tables
 * (routes, pools and their backends) with counts and percentages before and
 * after, the rejections after, and the notes. Pure.
 *
 * @module
 */

import type { RejectReason } from "./types.ts";
import type { ReplayReport, Share } from "./tally.ts";

/** How each rejection reason reads. */
export const REASONS: Readonly<Record<RejectReason, string>> = {
  "no-host": "no Host",
  "no-route": "no route matches",
  ip: "ip rules",
  "rate-limit": "rate limit",
  "basic-auth": "logged user not in basic-auth users",
  "no-backend": "pool has no backend",
  logged: "as logged",
};

/** `part` of `whole` as a percentage with one decimal, `-` when there is no whole. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? "-" : `${(Math.round((part / whole) * 1000) / 10).toFixed(1)}%`;
}

/**
 * Control characters shown as `\u001b` and the like. Route, pool and backend
 * names come from the log, which anyone who could write a request line
 * shaped: printed as they are, an ESC would drive the reader's terminal.
 */
export function visible(text: string, keepLineFeeds = false): string {
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  const controls = keepLineFeeds ? /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g;
  return text.replace(controls, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Rows as columns, indented by two spaces: the columns in `left` left-aligned, the rest right-aligned. */
export function table(
  raw: readonly (readonly string[])[],
  left: readonly number[] = [0],
): string[] {
  const rows = raw.map((row) => row.map((cell) => visible(cell)));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    "  " +
    row.map((cell, i) => left.includes(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))
      .join("  ")
      .trimEnd()
  );
}

/** The report as text, ending in a line feed. */
export function renderText(report: ReplayReport): string {
  const s = report.summary;
  const n = s.simulated;
  const byStatus = Object.entries(s.newlyRejected.byStatus).map(([k, v]) => `${k}: ${v}`).join(
    ", ",
  );
  const malformedAt = s.malformedLines.map((m) => `line ${m.line}: ${m.reason}`).join("; ");
  const out = [
    `lb replay: ${report.log} against ${report.config} (seed ${report.seed})`,
    "",
    "Summary",
    ...table([
      ["lines read", String(s.lines), ""],
      ["not request records (skipped)", String(s.skipped), ""],
      [
        "malformed",
        String(s.malformed),
        s.malformed === 0
          ? ""
          : `${malformedAt}${s.malformed > s.malformedLines.length ? "; \u2026" : ""}`,
      ],
      ["requests simulated", String(n), ""],
      ["same destination", String(s.same), percent(s.same, n)],
      [
        "moved",
        String(s.moved.total),
        `${
          percent(s.moved.total, n)
        } (route ${s.moved.route}, pool ${s.moved.pool}, backend only ${s.moved.backend})`,
      ],
      [
        "newly rejected",
        String(s.newlyRejected.total),
        `${percent(s.newlyRejected.total, n)}${byStatus === "" ? "" : ` (${byStatus})`}`,
      ],
      ["still rejected", String(s.stillRejected), percent(s.stillRejected, n)],
      ["no longer rejected", String(s.noLongerRejected), percent(s.noLongerRejected, n)],
      [
        "needs credentials (not simulated)",
        String(s.needsCredentials),
        percent(s.needsCredentials, n),
      ],
    ], [0, 2]),
    "",
    "Routes",
    ...table([header("route"), ...report.routes.map((r) => shareRow(r, n))]),
    "",
    "Pools and their backends (backend shares are of the pool; none: the lb answered, ?: not simulated)",
    ...table([
      header("pool / backend"),
      ...report.pools.flatMap((p) => [
        shareRow(p, n),
        // No pool, no backend: its one row would repeat the pool's.
        ...(p.name === "none" ? [] : p.backends)
          .map((b) => shareRow({ ...b, name: `  ${b.name}` }, undefined, p)),
      ]),
    ]),
    "",
    "Rejected after",
    ...(report.rejected.length === 0 ? ["  none"] : table([
      ["status", "route", "why", "count", "newly"],
      ...report.rejected.map((r) => [
        String(r.status),
        r.route,
        REASONS[r.reason],
        String(r.count),
        String(r.newly),
      ]),
    ], [0, 1, 2])),
    "",
    "Notes",
    ...report.notes.map((note) => `  - ${note}`),
  ];
  return `${visible(out.join("\n"), true)}\n`;
}

function header(first: string): string[] {
  return [first, "before", "share", "after", "share"];
}

/** A share row; percentages of `total`, or of `within`'s counts for a backend. */
function shareRow(row: Share, total?: number, within?: Share): string[] {
  const before = within ? within.before : total!;
  const after = within ? within.after : total!;
  return [
    row.name,
    String(row.before),
    percent(row.before, before),
    String(row.after),
    percent(row.after, after),
  ];
}
