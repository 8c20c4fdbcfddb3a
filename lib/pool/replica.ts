/**
 * A pool's state as data, so copies of one pool in several threads can
 * agree: the main thread, which runs health checks and the admin API,
 * exports its pool's members and their state; each worker applies that to
 * its own copy, which keeps its own in-flight counts, latencies and
 * connections. Applying is idempotent and whole (every member, every time),
 * so a worker that starts late or missed a message catches up with the next.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import type { Pool } from "./pool.ts";

/** One member's shared state: what every copy of the pool must agree on. */
export interface MemberState {
  readonly spec: BackendSpec;
  readonly up: boolean;
  readonly maintenance: boolean;
  /** End of its ejection (epoch ms, the pool clock), or 0. */
  readonly ejectedUntil: number;
  /** Ejections so far: each one lasts longer (outlier detection's escalation). */
  readonly ejections: number;
  readonly reason: string;
  readonly lastChange: number;
}

/** The members of `pool` that take traffic or may again (draining ones are leaving). */
export function exportMembers(pool: Pool): MemberState[] {
  return pool.backends.filter((b) => !b.draining).map((b) => ({
    spec: b.spec,
    up: b.up,
    maintenance: b.maintenance,
    ejectedUntil: b.outlier.ejectedUntil,
    ejections: b.outlier.ejections,
    reason: b.reason,
    lastChange: b.lastChange,
  }));
}

/**
 * Makes `pool`'s members and their shared state match `members`, in one
 * synchronous step (no request sees half of it): new members join, missing
 * ones drain on this copy's own in-flight count, and health, maintenance
 * and ejections follow through the pool's own methods, so ramps and
 * ejection timers run here as they do on the main thread.
 */
export function applyMembers(pool: Pool, members: readonly MemberState[]): void {
  pool.update(members.map((m) => m.spec));
  for (const m of members) {
    const b = pool.find(m.spec.origin);
    if (!b) continue;
    if (b.up !== m.up) pool.setHealth(b, m.up, m.reason, m.lastChange);
    if (b.maintenance !== m.maintenance) pool.setMaintenance(b.id, m.maintenance);
    b.outlier.ejections = Math.max(b.outlier.ejections, m.ejections);
    if (m.ejectedUntil > b.outlier.ejectedUntil && m.ejectedUntil > pool.now()) {
      pool.eject(b, m.ejectedUntil, m.reason);
    }
  }
}

/** What a worker saw on live traffic and the main thread applies to every copy. */
export type MemberReport =
  /** Connections to it are refused: down at once, until probes bring it back. */
  | { readonly kind: "down"; readonly origin: string; readonly reason: string }
  /** Passive outlier detection ejected it until `until` (epoch ms). */
  | {
    readonly kind: "eject";
    readonly origin: string;
    readonly until: number;
    readonly ejections: number;
    readonly reason: string;
  };

/**
 * Applies a worker's report to the main thread's pool, from where the next
 * {@link exportMembers} carries it to every worker. Idempotent: a report
 * of what the pool already shows changes nothing.
 */
export function applyReport(pool: Pool, report: MemberReport, now: number): void {
  const b = pool.find(report.origin);
  if (!b || b.draining) return;
  if (report.kind === "down") return pool.markDown(b, report.reason, now);
  // Workers that saw the same errors at once each report an ejection: it is one.
  if (b.ejected || report.until <= pool.now()) return;
  b.outlier.ejections = Math.max(b.outlier.ejections, report.ejections);
  pool.eject(b, report.until, report.reason);
}
