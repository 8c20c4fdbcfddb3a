/**
 * What the live dashboard shows at one moment, shaped from the `/status`
 * document (one source for each fact) plus the request and error rates of
 * the last interval. Pure: the caller gives the report, the rates and the
 * time.
 *
 * @module
 */

import type { LbEvent } from "./event_log.ts";
import type { HistoryPoint } from "./live_history.ts";
import type { Counters, Rates } from "./live_rates.ts";
import type { StatusReport } from "./status.ts";
import type { WorkerView } from "./types.ts";
import { round2, type RouteView, type StatusBackend } from "./views.ts";

/** A backend on the dashboard: `/status`'s view plus its rates. */
export interface DashboardBackend extends StatusBackend {
  /** Requests sent to it per second over the last interval. */
  readonly requestsPerSecond: number;
  /** Failed attempts / requests over the last interval (0..1), null without requests. */
  readonly errorRate: number | null;
}

/** A pool on the dashboard. */
export interface DashboardPool {
  readonly name: string;
  readonly strategy: string;
  readonly healthy: number;
  readonly backends: readonly DashboardBackend[];
}

/** The dashboard's state at one sample. */
export interface DashboardState {
  /** When it was sampled, epoch ms. */
  readonly at: number;
  /** The interval the rates are over, ms (0 on the very first sample). */
  readonly intervalMs: number;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  /** The main thread's heap in use, MiB. */
  readonly heapUsedMiB: number;
  /** Whether mutating actions can work (a token is configured); the page hides them otherwise. */
  readonly actions: boolean;
  readonly pools: readonly DashboardPool[];
  readonly routes: readonly RouteView[];
  /** The threads serving traffic (one entry, id 0, without `--workers`). */
  readonly workers: readonly WorkerView[];
}

/** What one SSE `snapshot` or `update` event carries. */
export interface DashboardMessage {
  readonly state: DashboardState;
  /** `snapshot`: every point of the window; `update`: the newest point. */
  readonly history: readonly HistoryPoint[];
  /** `snapshot`: every event kept; `update`: those since the previous update (clients skip seqs seen). */
  readonly events: readonly LbEvent[];
}

/** The key a backend's counters and rates are kept under: pool and origin. */
export function backendKey(pool: string, url: string): string {
  return `${pool}\u0000${url}`;
}

/** Every backend's counters in `report`, by {@link backendKey}, for {@link RateMeter.observe}. */
export function countersOf(report: StatusReport): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const p of report.pools) {
    for (const b of p.backends) {
      out.set(backendKey(p.name, b.url), { requests: b.requests, failures: b.failures });
    }
  }
  return out;
}

/** The dashboard's state from a `/status` report and the rates since the previous sample. */
export function dashboardState(
  report: StatusReport,
  rates: Rates,
  at: number,
  actions: boolean,
): DashboardState {
  return {
    at,
    intervalMs: rates.intervalMs,
    version: report.version,
    uptimeSeconds: report.uptimeSeconds,
    ready: report.ready,
    shuttingDown: report.shuttingDown,
    heapUsedMiB: report.memoryMiB.heapUsed ?? 0,
    actions,
    pools: report.pools.map((p) => ({
      name: p.name,
      strategy: p.strategy,
      healthy: p.healthy,
      backends: p.backends.map((b): DashboardBackend => {
        const r = rates.byKey.get(backendKey(p.name, b.url));
        return {
          ...b,
          requestsPerSecond: round2(r?.requestsPerSecond ?? 0),
          errorRate: r?.errorRate == null ? null : round4(r.errorRate),
        };
      }),
    })),
    routes: report.routes,
    workers: report.workers,
  };
}

/** The history point of a sample: total rates, and the slowest backend's p50 and p99. */
export function historyPoint(report: StatusReport, rates: Rates, at: number): HistoryPoint {
  let p50: number | null = null, p99: number | null = null;
  for (const p of report.pools) {
    for (const b of p.backends) {
      if (b.latencyMs.p50 !== null) p50 = Math.max(p50 ?? 0, b.latencyMs.p50);
      if (b.latencyMs.p99 !== null) p99 = Math.max(p99 ?? 0, b.latencyMs.p99);
    }
  }
  return {
    at,
    requestsPerSecond: round2(rates.total.requestsPerSecond),
    errorsPerSecond: round2(rates.total.failuresPerSecond),
    p50Ms: p50,
    p99Ms: p99,
  };
}

function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}
