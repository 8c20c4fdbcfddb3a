/**
 * A worker thread's program (`--workers`): it serves traffic on the shared
 * port with its own listener (`reusePort`), connections, upstream pools and
 * proxy core, and follows the main thread for everything that must be
 * single. Its pools are copies: health, maintenance, weights, membership
 * and ejections arrive as `members` messages and are applied in one step;
 * what its own traffic shows (a backend refusing connections, an outlier
 * ejection) it applies at once and reports, so the main thread spreads it
 * to every other worker. Started by `supervisor.ts` as a
 * `node:worker_threads` worker.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import type { LbConfig } from "../config/types.ts";
import { log, setupLogging } from "../core/logging.ts";
import { createLbMetrics } from "../metrics/lb_metrics.ts";
import type { Pool } from "../pool/pool.ts";
import { applyMembers, type MemberReport } from "../pool/replica.ts";
import { threadStats } from "./thread_stats.ts";
import { startTraffic, type Traffic } from "./traffic.ts";
import type { FromWorker, PoolMembers, ToWorker } from "./worker_messages.ts";

/** The channel to the main thread (this module runs only as a worker). */
const port = parentPort!;

function send(message: FromWorker): void {
  port.postMessage(message);
}

/** One worker's state once started. */
class WorkerLb {
  readonly #traffic: Traffic;
  readonly #metrics = createLbMetrics();
  /** True while the main thread's view is being applied: those changes are not reported back. */
  #applying = false;
  readonly #watched = new WeakSet<Pool>();

  constructor(id: number, config: LbConfig, members: PoolMembers) {
    const workerLog = (...category: string[]) => log(...category).with({ worker: id });
    this.#traffic = startTraffic(config, {
      log: workerLog,
      metrics: this.#metrics,
      replica: true,
      sharePort: true,
      sharers: config.workers,
    });
    this.apply(members);
  }

  get addr(): Deno.NetAddr {
    return this.#traffic.addr!;
  }

  /** Makes every pool copy match the main thread's view. */
  apply(members: PoolMembers): void {
    this.#applying = true;
    try {
      for (const runtime of this.#traffic.pools.all) {
        const states = members[runtime.pool.name];
        if (states) applyMembers(runtime.pool, states);
        this.#watch(runtime.pool);
      }
    } finally {
      this.#applying = false;
    }
  }

  async reconfigure(seq: number, config: LbConfig, members: PoolMembers): Promise<void> {
    try {
      const restart = await this.#traffic.reconfigure(config, false);
      this.apply(members);
      send({ type: "reconfigured", seq, restart });
    } catch (err) {
      send({ type: "reconfigure-failed", seq, message: String(err) });
    }
  }

  stats(seq: number): void {
    send({
      type: "stats",
      seq,
      stats: threadStats(this.#traffic.pools.all.map((r) => r.pool), this.#metrics),
    });
  }

  /** Reopens the access-log file. */
  reopenLogs(): Promise<void> {
    return this.#traffic.reopenLogs();
  }

  /** Drains; the main thread already waited out `--shutdown-delay`. */
  async shutdown(timeoutMs: number): Promise<void> {
    const drained = await this.#traffic.shutdown({
      timing: { shutdownDelayMs: 0, shutdownTimeoutMs: timeoutMs },
    });
    send({ type: "drained", drained });
  }

  /** Reports what this worker's own traffic changes in `pool` (not what the main thread sent). */
  #watch(pool: Pool): void {
    if (this.#watched.has(pool)) return;
    this.#watched.add(pool);
    const report = (r: MemberReport) => {
      if (!this.#applying) send({ type: "report", pool: pool.name, report: r });
    };
    pool.onFlip(({ backend, up, reason }) => {
      if (!up) report({ kind: "down", origin: backend.id, reason });
    });
    pool.onEjection(({ backend, ejected, reason }) => {
      if (!ejected) return;
      const { ejectedUntil: until, ejections } = backend.outlier;
      report({ kind: "eject", origin: backend.id, until, ejections, reason });
    });
  }
}

let worker: WorkerLb | undefined;

port.on("message", async (message: ToWorker) => {
  switch (message.type) {
    case "start": {
      const { config } = message;
      try {
        await setupLogging({
          category: "lb",
          level: config.logLevel,
          format: config.logFormat,
          accessLog: config.accessLog,
        });
        worker = new WorkerLb(message.id, config, message.members);
        send({ type: "ready", addr: worker.addr });
      } catch (err) {
        send({ type: "failed", message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case "members":
      return worker?.apply(message.members);
    case "reconfigure":
      return worker?.reconfigure(message.seq, message.config, message.members);
    case "stats":
      return worker?.stats(message.seq);
    case "reopen-logs":
      return worker?.reopenLogs();
    case "ping":
      return send({ type: "pong", seq: message.seq });
    case "shutdown":
      return worker?.shutdown(message.timeoutMs);
  }
});
