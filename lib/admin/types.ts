/**
 * The leaf types of the admin listener, shared by the routes in
 * `handler.ts` and the API in `api.ts` so neither imports the other's
 * options.
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { Backend, Pool } from "../pool/pool.ts";

/** One pool as the admin listener sees it: its runtime state and the configuration it runs. */
export interface AdminPool {
  /** Backends, health and the snapshot strategies pick from. */
  readonly pool: Pool;
  /** What the pool was configured with (strategy, health, ...); `config.name` is `pool.name`. */
  readonly config: PoolConfig;
}

/**
 * The pools of the current configuration generation, in config order.
 * Called on every admin request, so a reload shows at once.
 */
export type AdminPools = () => readonly AdminPool[];

/** A backend's traffic counters, summed over every thread that serves traffic. */
export interface BackendTraffic {
  /** Requests sent to it whose responses are not yet fully delivered. */
  readonly inFlight: number;
  /** Requests sent to it since it joined. */
  readonly requests: number;
  /** Attempts that failed before a response. */
  readonly failures: number;
  /** Response-header latency of recent attempts (null before any), and its peak EWMA (the highest thread's). */
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly ewma: number;
  };
}

/** A thread that serves traffic, as `/status` and `/api/workers` list it. */
export interface WorkerView {
  /** 1..N for worker threads; 0 for the main thread when it serves alone. */
  readonly id: number;
  readonly state: "starting" | "running" | "restarting";
  /** Requests it answered (since it last started). */
  readonly requests: number;
  /** Times it was replaced after a crash, a kill or a hang. */
  readonly restarts: number;
  /** When it last started, ISO 8601. */
  readonly startedAt: string;
  /**
   * Its isolate's JavaScript heap (total and used) and external memory, in
   * MiB at the last report; the process's RSS is in `/status`'s `memoryMiB`.
   */
  readonly heapMiB?: { readonly total: number; readonly used: number; readonly external: number };
}

/**
 * What the threads serving traffic report, gathered once per admin request
 * that shows it (`/status`, `/metrics`, `/api/...`), so a scrape reads each
 * worker once and never waits on the request path.
 */
export interface TrafficReport {
  /** `/metrics`' body: every family, summed over the threads. */
  readonly metrics: string;
  readonly workers: readonly WorkerView[];
  /** A backend's counters over every thread. */
  traffic(pool: string, backend: Backend): BackendTraffic;
}

/** Worker threads as the admin API can act on them. */
export interface WorkerControl {
  /** Ends worker `id` at once (its connections are lost) to have it replaced; false for no such worker. */
  kill(id: number): boolean;
}
