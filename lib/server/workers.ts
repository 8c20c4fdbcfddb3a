/**
 * `--workers` on the main thread's side, as `lb.ts` uses it: how many
 * workers a config asks for, the port they share, the supervisor that runs
 * them, the pools' shared state sent to them whenever it changes, their
 * reports applied to the main thread's pools, and the sum of their
 * counters for the admin listener.
 *
 * @module
 */

import type { TrafficReport, WorkerControl } from "../admin/types.ts";
import { UsageError } from "../config/cli.ts";
import type { LbConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Pool } from "../pool/pool.ts";
import { applyReport, exportMembers } from "../pool/replica.ts";
import type { LbOptions } from "./lb_options.ts";
import type { PoolSet } from "./pools.ts";
import { Supervisor } from "./supervisor.ts";
import { sumStats, threadStats } from "./thread_stats.ts";
import type { PoolMembers } from "./worker_messages.ts";

/**
 * How many worker threads `config` asks for (`auto`: the CPUs this process
 * may use); 1 means none, the main thread serves. Several need `reusePort`
 * (Linux, `--unstable-net`) and can't take what runs on the request path
 * from the library (hooks, transports, randomness, clocks), which can't be
 * sent to another thread.
 */
export function workerCount(config: LbConfig, options: LbOptions): number {
  const n = config.workers === 0 ? navigator.hardwareConcurrency : config.workers;
  if (n <= 1 || options.listen === false) return 1;
  // Asking for reusePort without --unstable-net exits the process, so the
  // flag is detected by an API it alone enables.
  if (Deno.build.os !== "linux" || !("listenDatagram" in Deno)) {
    throw new UsageError([
      `--workers: ${n} workers share the traffic port with reusePort, which needs Linux ` +
      "and Deno's --unstable-net (deno.json sets it for `deno task lb`); use --workers 1",
    ]);
  }
  const local = (["hooks", "transport", "random", "now"] as const).filter((k) => options[k]);
  if (local.length > 0) {
    throw new UsageError([
      `--workers: ${local.join(", ")} run on the request path and can't be sent to worker ` +
      "threads; use workers: 1 with them",
    ]);
  }
  return n;
}

/** What the workers need from the main thread. */
export interface WorkersDeps {
  /** The main thread's pools: the health view the workers follow. */
  readonly pools: PoolSet;
  /** The configuration in force. */
  readonly config: () => LbConfig;
  readonly metrics: LbMetrics;
  readonly log: Logger;
}

/** Running workers, as the main thread drives them. */
export interface Workers {
  /** The port they share. */
  readonly addr: Deno.NetAddr;
  /** Resolves once every worker listens; rejects if one can't start. */
  readonly ready: Promise<void>;
  /** For the admin API's `DELETE /api/workers/{id}`. */
  readonly control: WorkerControl;
  /** The main thread's counters summed with every worker's. */
  report(): Promise<TrafficReport>;
  /** Applies a generation in every worker (after the main thread's pools); returns what needs a restart. */
  reconfigure(next: LbConfig): Promise<string[]>;
  /** Drains every worker for up to `timeoutMs`; true when all finished. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Tells every worker to reopen its access-log file. */
  reopenLogs(): void;
  /** Stops sending state, and frees the port reservation if it is still held. */
  close(): void;
}

/** Starts `count` workers serving `config` (their listeners bind as they start). */
export function startWorkers(config: LbConfig, count: number, deps: WorkersDeps): Workers {
  const { pools, metrics } = deps;
  // With a free port asked for, one is reserved here so every worker binds
  // the same one; it never accepts, and closes once the workers serve.
  let reservation: Deno.TcpListener | undefined = config.port === 0
    ? Deno.listen({ hostname: config.host, port: 0, reusePort: true })
    : undefined;
  const port = reservation?.addr.port ?? config.port;
  const release = () => {
    reservation?.close();
    reservation = undefined;
  };
  // What workers are told: the port chosen, and `auto` resolved.
  const told = (c: LbConfig): LbConfig => ({ ...c, port, workers: count });
  const supervisor = new Supervisor({
    count,
    config: () => told(deps.config()),
    members: () => poolMembers(pools),
    onReport: (pool, report) => {
      const runtime = pools.get(pool);
      if (runtime) applyReport(runtime.pool, report, Date.now());
    },
    metrics,
    log: deps.log,
  });
  const publisher = new Publisher(pools, supervisor);
  const ready = supervisor.start().finally(release);
  ready.catch(() => {});
  const own = () => pools.all.map((r) => r.pool);
  return {
    addr: { transport: "tcp", hostname: config.host, port },
    ready,
    control: supervisor,
    async report() {
      const stats = await supervisor.collect();
      return sumStats(threadStats(own(), metrics), stats, supervisor.views);
    },
    reconfigure(next) {
      publisher.watch();
      return supervisor.reconfigure(told(next), poolMembers(pools));
    },
    drain: (ms) => supervisor.shutdown(ms),
    reopenLogs: () => supervisor.reopenLogs(),
    close() {
      publisher.stop();
      release();
    },
  };
}

/** Every pool's shared state, for the workers. */
function poolMembers(pools: PoolSet): PoolMembers {
  return Object.fromEntries(pools.all.map((r) => [r.pool.name, exportMembers(r.pool)]));
}

/**
 * Sends the workers the pools' shared state whenever it changes, at most
 * once per turn of the event loop however many backends changed in it.
 */
class Publisher {
  readonly #pools: PoolSet;
  readonly #supervisor: Supervisor;
  readonly #watched = new Map<Pool, () => void>();
  #queued = false;

  constructor(pools: PoolSet, supervisor: Supervisor) {
    this.#pools = pools;
    this.#supervisor = supervisor;
    this.watch();
  }

  /** Watches the pools of the set now (call after a reload adds or removes pools). */
  watch(): void {
    const current = new Set(this.#pools.all.map((r) => r.pool));
    for (const [pool, off] of this.#watched) {
      if (current.has(pool)) continue;
      off();
      this.#watched.delete(pool);
    }
    for (const pool of current) {
      if (!this.#watched.has(pool)) this.#watched.set(pool, pool.onChange(() => this.#changed()));
    }
  }

  stop(): void {
    for (const off of this.#watched.values()) off();
    this.#watched.clear();
  }

  #changed(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#supervisor.publish(poolMembers(this.#pools));
    });
  }
}
