/**
 * The main thread's side of `--workers`: starts N worker threads
 * (`worker_thread.ts`, started by `worker_spawn.ts`), tells them each configuration generation and every
 * change of the pools' shared state, gathers their counters when asked, and
 * replaces one that crashes, is killed through the admin API, or stops
 * answering its heartbeat: only that worker's connections are lost, the
 * others keep serving, and the replacement starts with the current
 * configuration and state. Shutdown drains every worker.
 *
 * @module
 */

import type { WorkerView } from "../admin/types.ts";
import type { LbConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { MemberReport } from "../pool/replica.ts";
import { spawnWorker, type WorkerThread } from "./worker_spawn.ts";
import type { FromWorker, HeapMiB, PoolMembers, ThreadStats, ToWorker } from "./worker_messages.ts";

/** Why a worker was replaced: the `reason` label of `lb_worker_restarts_total`. */
export type RestartReason = "crashed" | "killed" | "unresponsive";

/** What the supervisor needs from the main thread. */
export interface SupervisorOptions {
  /** Workers to run. */
  readonly count: number;
  /** The configuration in force (its port already chosen). */
  readonly config: () => LbConfig;
  /** The pools' shared state now. */
  readonly members: () => PoolMembers;
  /** What a worker's traffic showed about a backend of `pool`. */
  readonly onReport: (pool: string, report: MemberReport) => void;
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Heartbeat period, and how long a worker may go without answering (ms); 1 s and 10 s by default. */
  readonly heartbeat?: { readonly everyMs: number; readonly deadMs: number };
  /** The worker's module; `worker_thread.ts` by default (tests give a stand-in). */
  readonly module?: URL;
}

/** Longest a reply (stats, reload) is awaited from a worker. */
const REPLY_MS = 5000;

/** A reply awaited: the message, or undefined when the worker went away first. */
interface Waiter {
  resolve(message: FromWorker | undefined): void;
}

/** One worker slot: its id stays, the thread in it is replaced. */
class Slot {
  worker: WorkerThread | undefined;
  state: WorkerView["state"] = "starting";
  restarts = 0;
  startedAt = Date.now();
  lastPong = Date.now();
  requests = 0;
  heapMiB: HeapMiB | undefined;
  /** Replies awaited, by sequence number. */
  readonly waiting = new Map<number, Waiter>();
  /** Resolves when the worker serves (or rejects when it could not start). */
  ready: Promise<void> = Promise.resolve();
  /** Consecutive failed starts, for the back-off. */
  failures = 0;
  /** The configuration generation its worker was started with. */
  generation = 0;
  constructor(readonly id: number) {}
}

/** Runs and watches the worker threads. */
export class Supervisor {
  readonly #opts: SupervisorOptions;
  readonly #slots: Slot[];
  #seq = 0;
  /** Counts reloads, so a worker that started during one catches up. */
  #generation = 0;
  #stopping = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: SupervisorOptions) {
    this.#opts = options;
    this.#slots = Array.from({ length: options.count }, (_, i) => new Slot(i + 1));
  }

  /** Starts every worker; resolves once all serve, rejects if one can't start. */
  async start(): Promise<void> {
    for (const slot of this.#slots) this.#spawn(slot);
    await Promise.all(this.#slots.map((s) => s.ready));
    const { everyMs, deadMs } = this.#opts.heartbeat ?? { everyMs: 1000, deadMs: 10_000 };
    this.#heartbeat = setInterval(() => this.#beat(deadMs), everyMs);
  }

  /** The workers, with the request counts of the last {@link collect}. */
  get views(): WorkerView[] {
    return this.#slots.map((s) => ({
      id: s.id,
      state: s.state,
      requests: s.requests,
      ...(s.heapMiB && { heapMiB: s.heapMiB }),
      restarts: s.restarts,
      startedAt: new Date(s.startedAt).toISOString(),
    }));
  }

  /** Tells every serving worker the pools' shared state. */
  publish(members: PoolMembers): void {
    this.#broadcast({ type: "members", members });
  }

  /** Tells every serving worker to reopen its access-log file (one starting opens it anew anyway). */
  reopenLogs(): void {
    this.#broadcast({ type: "reopen-logs" });
  }

  /** Applies a generation in every worker; resolves with the settings any of them could not apply. */
  async reconfigure(config: LbConfig, members: PoolMembers): Promise<string[]> {
    this.#generation++;
    // Those not serving yet catch up once ready (see #catchUp).
    for (const slot of this.#running()) slot.generation = this.#generation;
    const replies = await this.#ask((seq) => ({ type: "reconfigure", seq, config, members }));
    const restart = new Set<string>();
    for (const reply of replies) {
      if (reply.type === "reconfigured") reply.restart.forEach((r) => restart.add(r));
      if (reply.type === "reconfigure-failed") throw new Error(reply.message);
    }
    return [...restart];
  }

  /** Every serving worker's counters (a worker that does not answer in time is left out). */
  async collect(): Promise<ThreadStats[]> {
    const replies = await this.#ask((seq) => ({ type: "stats", seq }));
    return replies.flatMap((r) => r.type === "stats" ? [r.stats] : []);
  }

  /** Ends worker `id` at once, as `kill -9` would, and starts its replacement. */
  kill(id: number): boolean {
    const slot = this.#slots.find((s) => s.id === id);
    if (!slot || this.#stopping || slot.state !== "running") return false;
    this.#lost(slot, "killed", "killed through the admin API");
    return true;
  }

  /** Drains every worker for up to `timeoutMs`; true when all finished in time. */
  async shutdown(timeoutMs: number): Promise<boolean> {
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    for (const t of this.#timers) clearTimeout(t);
    const running = this.#running();
    const drained = await Promise.all(running.map((slot) =>
      new Promise<boolean>((resolve) => {
        // The worker's own deadline is timeoutMs; a margin for its reply.
        const timer = setTimeout(() => resolve(false), timeoutMs + 2000);
        slot.waiting.set(-1, {
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m?.type === "drained" && m.drained);
          },
        });
        slot.worker!.post({ type: "shutdown", timeoutMs } satisfies ToWorker);
      })
    ));
    for (const slot of this.#slots) {
      slot.worker?.end();
      slot.worker = undefined;
    }
    return drained.every(Boolean);
  }

  #spawn(slot: Slot): void {
    slot.startedAt = slot.lastPong = Date.now();
    slot.requests = 0;
    slot.heapMiB = undefined;
    slot.generation = this.#generation;
    let started!: () => void, failed!: (err: Error) => void;
    slot.ready = new Promise<void>((resolve, reject) => (started = resolve, failed = reject));
    slot.ready.catch(() => {});
    const module = this.#opts.module ?? new URL("./worker_thread.ts", import.meta.url);
    const worker = spawnWorker(module, `lb worker ${slot.id}`, {
      onMessage: (m) => {
        if (m.type === "ready") {
          slot.state = "running";
          slot.failures = 0;
          // Heartbeats are checked from now on: a start slower than the
          // heartbeat's deadline must not count as a missed beat.
          slot.lastPong = Date.now();
          this.#catchUp(slot, worker);
          started();
        } else if (m.type === "failed") {
          failed(new Error(`worker ${slot.id}: ${m.message}`));
          this.#lost(slot, "crashed", m.message);
        } else if (m.type === "report") {
          this.#opts.onReport(m.pool, m.report);
        } else if (m.type === "pong") {
          slot.lastPong = Date.now();
        } else {
          const seq = m.type === "drained" ? -1 : m.seq;
          slot.waiting.get(seq)?.resolve(m);
          slot.waiting.delete(seq);
        }
      },
      onGone: (detail) => {
        failed(new Error(`worker ${slot.id}: ${detail}`));
        this.#lost(slot, "crashed", detail);
      },
    });
    slot.worker = worker;
    worker.post(
      {
        type: "start",
        id: slot.id,
        config: this.#opts.config(),
        members: this.#opts.members(),
      } satisfies ToWorker,
    );
  }

  /** The worker in `slot` is gone or must go: end it and start another after a back-off. */
  #lost(slot: Slot, reason: RestartReason, detail: string): void {
    slot.worker?.end();
    slot.worker = undefined;
    for (const w of slot.waiting.values()) w.resolve(undefined);
    slot.waiting.clear();
    if (this.#stopping) return;
    slot.state = "restarting";
    slot.restarts++;
    slot.failures++;
    this.#opts.metrics.workerRestarts.labels(String(slot.id), reason).inc();
    // Doubling from 100 ms to 5 s, so a worker that can't start doesn't spin.
    const delay = Math.min(5000, 100 * 2 ** (slot.failures - 1));
    this.#opts.log.error("worker {worker} {reason} ({detail}); starting a new one in {delay}ms", {
      worker: slot.id,
      reason,
      detail,
      delay,
    });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopping) this.#spawn(slot);
    }, delay);
    this.#timers.add(timer);
  }

  /**
   * A worker that became ready may have missed what happened while it
   * started: the pools' state changed, or a reload applied to the others.
   */
  #catchUp(slot: Slot, worker: WorkerThread): void {
    const members = this.#opts.members();
    if (slot.generation === this.#generation) {
      worker.post({ type: "members", members } satisfies ToWorker);
      return;
    }
    slot.generation = this.#generation;
    const seq = ++this.#seq;
    worker.post(
      { type: "reconfigure", seq, config: this.#opts.config(), members } satisfies ToWorker,
    );
  }

  #beat(deadMs: number): void {
    const now = Date.now();
    for (const slot of this.#slots) {
      if (!slot.worker || slot.state !== "running") continue;
      if (now - slot.lastPong > deadMs) {
        this.#lost(slot, "unresponsive", `no heartbeat for ${now - slot.lastPong}ms`);
        continue;
      }
      slot.worker.post({ type: "ping", seq: ++this.#seq } satisfies ToWorker);
    }
  }

  #broadcast(message: ToWorker): void {
    for (const slot of this.#running()) slot.worker!.post(message);
  }

  /** The slots whose worker serves now. */
  #running(): Slot[] {
    return this.#slots.filter((s) => s.worker && s.state === "running");
  }

  /** Sends each serving worker a request and collects the replies that come in time. */
  async #ask(make: (seq: number) => ToWorker): Promise<FromWorker[]> {
    const replies = await Promise.all(
      this.#running().map((slot) =>
        new Promise<FromWorker | undefined>((resolve) => {
          const seq = ++this.#seq;
          const timer = setTimeout(() => {
            slot.waiting.delete(seq);
            resolve(undefined);
          }, REPLY_MS);
          slot.waiting.set(seq, {
            resolve: (m) => {
              clearTimeout(timer);
              if (m?.type === "stats") {
                slot.requests = m.stats.requests;
                slot.heapMiB = m.stats.heapMiB;
              }
              resolve(m);
            },
          });
          slot.worker!.post(make(seq));
        })
      ),
    );
    return replies.filter((r): r is FromWorker => r !== undefined);
  }
}
