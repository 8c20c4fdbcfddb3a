/**
 * Starting one worker thread and hearing of its end. Workers are
 * `node:worker_threads` workers: the Worker API of Deno's that takes heap
 * limits. An uncaught error, a heap past its limit
 * (`ERR_WORKER_OUT_OF_MEMORY`) or an exit ends that worker alone; the
 * process goes on, and `onGone` says why once.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { FromWorker } from "./worker_messages.ts";

/**
 * Each worker's V8 heap limits. Left to V8, a worker's heap grows as if it
 * had the machine to itself: the young generation to 48 MiB and the old
 * one by up to 4× after each collection, so two workers took 320 MiB of RSS
 * at 1,000 connections though each holds about 12 MiB of live objects. A
 * 4 MiB young generation and a 1 GiB ceiling on the old one (which also
 * makes V8 grow it by smaller steps) bring that to about 166 MiB. Measured
 * on the same machine (docs/benchmarks.md): 2 MiB saves 7 MiB more but costs
 * a third more CPU per request at 1,000 connections; 8 MiB costs the same
 * CPU as 4 and 8 MiB more; 16 MiB some 10% less CPU and 25 MiB more. A
 * worker whose heap does reach the ceiling is replaced like one that
 * crashed, instead of taking the host's memory.
 */
const HEAP_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 1024 } as const;

/** What a started worker reports. */
export interface WorkerEvents {
  /** A message from it. */
  onMessage(message: FromWorker): void;
  /** It ended by itself (crash, out of memory, exit): not after {@link WorkerThread.end}. */
  onGone(detail: string): void;
}

/** One running worker thread. */
export interface WorkerThread {
  post(message: unknown): void;
  /** Ends it at once (its sockets close); `onGone` is not called. */
  end(): void;
}

/** Starts `module` as worker `name`. */
export function spawnWorker(module: URL, name: string, events: WorkerEvents): WorkerThread {
  const worker = new Worker(module, { name, resourceLimits: HEAP_LIMITS });
  let ended = false;
  const gone = (detail: string) => {
    if (ended) return;
    ended = true;
    events.onGone(detail);
  };
  worker.on("message", (m: FromWorker) => {
    if (!ended) events.onMessage(m);
  });
  worker.on("error", (e: Error) => gone(e.message));
  worker.on("exit", (code: number) => gone(`exited with code ${code}`));
  return {
    post: (message) => worker.postMessage(message),
    end() {
      // Marked first: terminate() reports the exit at once, which is not a crash.
      ended = true;
      worker.terminate();
    },
  };
}
