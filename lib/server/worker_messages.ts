/**
 * The messages between the main thread and the worker threads (`--workers`),
 * all structured-cloneable data. The main thread owns what must be single
 * (health checks, discovery, reload, admin, signals) and tells workers what
 * they need; workers serve traffic and tell the main thread what they saw
 * on it (a backend refusing connections, an outlier ejection) and, when
 * asked, their counters.
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import type { FamilySnapshot } from "../metrics/registry.ts";
import type { MemberReport, MemberState } from "../pool/replica.ts";

/** Every pool's members and their shared state, by pool name. */
export type PoolMembers = Readonly<Record<string, readonly MemberState[]>>;

/** What the main thread sends a worker. */
export type ToWorker =
  /** First message: serve `config` (its port already chosen) as worker `id`. */
  | {
    readonly type: "start";
    readonly id: number;
    readonly config: LbConfig;
    readonly members: PoolMembers;
  }
  /** The pools' shared state changed. */
  | { readonly type: "members"; readonly members: PoolMembers }
  /** Apply a new generation; answered by `reconfigured` with the same `seq`. */
  | {
    readonly type: "reconfigure";
    readonly seq: number;
    readonly config: LbConfig;
    readonly members: PoolMembers;
  }
  /** Report counters; answered by `stats` with the same `seq`. */
  | { readonly type: "stats"; readonly seq: number }
  /** Reopen the access-log file (the main thread got SIGUSR1). */
  | { readonly type: "reopen-logs" }
  /** Heartbeat; answered by `pong`. */
  | { readonly type: "ping"; readonly seq: number }
  /** Stop accepting and drain for up to `timeoutMs`; answered by `drained`. */
  | { readonly type: "shutdown"; readonly timeoutMs: number };

/** One backend's traffic as one thread saw it. */
export interface BackendCounters {
  readonly inFlight: number;
  readonly requests: number;
  readonly failures: number;
  /** The recent response-header latencies (ms), for percentiles over every thread. */
  readonly latencies: readonly number[];
  /** Its peak EWMA now (ms). */
  readonly ewma: number;
}

/** One isolate's memory, in MiB to one decimal. */
export interface HeapMiB {
  readonly total: number;
  readonly used: number;
  readonly external: number;
}

/** What one thread reports when asked. */
export interface ThreadStats {
  /** Its metric families. */
  readonly families: readonly FamilySnapshot[];
  /** Requests answered (the sum of its `lb_requests_total`). */
  readonly requests: number;
  /** Its isolate's JavaScript heap and external memory (`Deno.memoryUsage()`), in MiB. */
  readonly heapMiB: HeapMiB;
  /** Per pool name, per backend origin. */
  readonly backends: Readonly<Record<string, Readonly<Record<string, BackendCounters>>>>;
}

/** What a worker sends the main thread. */
export type FromWorker =
  /** Serving on `addr`. */
  | { readonly type: "ready"; readonly addr: Deno.NetAddr }
  /** Could not start (e.g. the port can't be bound). */
  | { readonly type: "failed"; readonly message: string }
  /** Something live traffic showed about a backend. */
  | { readonly type: "report"; readonly pool: string; readonly report: MemberReport }
  | { readonly type: "reconfigured"; readonly seq: number; readonly restart: readonly string[] }
  | { readonly type: "reconfigure-failed"; readonly seq: number; readonly message: string }
  | { readonly type: "stats"; readonly seq: number; readonly stats: ThreadStats }
  | { readonly type: "pong"; readonly seq: number }
  | { readonly type: "drained"; readonly drained: boolean };
