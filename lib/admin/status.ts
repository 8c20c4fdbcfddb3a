/**
 * The `/status` document, built in one place so `/status` and the live
 * dashboard (`live.ts`) describe the lb the same way: process facts, each
 * pool with its backends, the routes as configured, and the threads that
 * serve traffic.
 *
 * @module
 */

import type { RouteConfig } from "../config/types.ts";
import type { AdminPool, AdminPools, TrafficReport, WorkerView } from "./types.ts";
import {
  type PoolView,
  type RouteView,
  routeView,
  type StatusBackend,
  statusBackend,
} from "./views.ts";

/** What `/status` reads besides the traffic report. */
export interface StatusSource {
  /** The pools of the current generation, in config order; read on every request, so a reload shows at once. */
  readonly pools: AdminPools;
  /** The routes of the current generation, in match order, for `/status`. */
  readonly routes: () => readonly RouteConfig[];
  /** Whether shutdown has begun (readiness then fails). */
  readonly shuttingDown: () => boolean;
  /** When the process started (epoch ms), for `uptimeSeconds`. */
  readonly startedAt: number;
  /** The lb's version, shown in `/status`. */
  readonly version: string;
}

/** One backend in `/status`'s flat list: its pool's entry plus the pool's name. */
export interface StatusListedBackend extends StatusBackend {
  /** The name of the pool it is a member of (a backend may be in several). */
  readonly pool: string;
}

/** The `/status` document; see {@link statusReport}. */
export interface StatusReport {
  /** The lb's version. */
  readonly version: string;
  /** Seconds since the process started. */
  readonly uptimeSeconds: number;
  /** What `/readyz` answers: not shutting down, and some pool has a healthy backend. */
  readonly ready: boolean;
  /** Whether shutdown has begun. */
  readonly shuttingDown: boolean;
  /** `Deno.memoryUsage()` in MiB, to one decimal. */
  readonly memoryMiB: Readonly<Record<string, number>>;
  /** Every pool in config order, each with its backends. */
  readonly pools: readonly PoolView<StatusBackend>[];
  /** Every route in match order. */
  readonly routes: readonly RouteView[];
  /** Every backend of every pool, in pool then member order, each with its pool's name. */
  readonly backends: readonly StatusListedBackend[];
  /** The threads serving traffic: the main thread alone (id 0), or workers 1..N. */
  readonly workers: readonly WorkerView[];
}

/**
 * The `/status` document: process facts, each pool with its backends, the
 * routes as configured, and `backends`, every backend of every pool in one
 * list with its pool's name (what tools written for a single pool read).
 * `ready` is `/readyz`'s answer: not shutting down and at least one pool
 * with a healthy backend.
 */
export function statusReport(
  source: StatusSource,
  now: number,
  report: TrafficReport,
): StatusReport {
  const current = source.pools();
  const shuttingDown = source.shuttingDown();
  const pools = current.map(({ pool, config }): PoolView<StatusBackend> => ({
    name: pool.name,
    strategy: config.strategy,
    healthy: pool.healthy.length,
    backends: pool.backends.map((b) => statusBackend(b, report.traffic(pool.name, b))),
  }));
  return {
    version: source.version,
    uptimeSeconds: Math.round((now - source.startedAt) / 1000),
    ready: notReady(shuttingDown, current) === undefined,
    shuttingDown,
    memoryMiB: mib(Deno.memoryUsage()),
    pools,
    routes: source.routes().map(routeView),
    backends: pools.flatMap((p) => p.backends.map((b) => ({ pool: p.name, ...b }))),
    workers: report.workers,
  };
}

/**
 * Why the lb is not ready, or undefined when it is. Ready means not
 * shutting down and at least one pool with a healthy backend: an lb fronts
 * several services, and one of them down must not take the lb out of the
 * Kubernetes Service (or cloud load balancer) that sends it the traffic of
 * the others. That service's requests still fail fast with 503 from the
 * proxy, and `/status` shows which pool has nothing healthy.
 */
export function notReady(shuttingDown: boolean, pools: readonly AdminPool[]): string | undefined {
  if (shuttingDown) return "shutting down";
  if (pools.length === 0) return "no pools configured";
  if (!pools.some((p) => p.pool.healthy.length > 0)) return "no healthy backend in any pool";
  return undefined;
}

function mib(usage: Deno.MemoryUsage): Record<string, number> {
  return Object.fromEntries(
    Object.entries(usage).map(([k, v]) => [k, Math.round(v / 1024 / 102.4) / 10]),
  );
}
