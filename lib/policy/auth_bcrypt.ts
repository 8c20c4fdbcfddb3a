/**
 * bcrypt checks off the serving thread: one `node:worker_threads` worker
 * per lb thread (started at the first check, shared by every route and
 * generation of that thread, ended at shutdown) runs them one at a time.
 * That bounds what password checks can take to one core per lb thread,
 * whatever a flood of wrong passwords does, and keeps the event loop free
 * meanwhile. The queue in front of it is the caller's to bound
 * ({@link BcryptVerifier.pending}). A worker that dies fails its waiting
 * checks (which then fail closed) and is replaced at the next one.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { BcryptAnswer, BcryptRequest } from "./auth_bcrypt_worker.ts";

/**
 * The worker's heap: bcrypt works in a few KiB of state, so a small young
 * generation and a low ceiling keep its memory near the isolate's own
 * baseline rather than V8's defaults, sized for a machine to itself.
 */
const HEAP_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 } as const;

const MODULE = new URL("./auth_bcrypt_worker.ts", import.meta.url);

interface Waiter {
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

/** Compares passwords with bcrypt hashes on a thread of its own. */
export class BcryptVerifier {
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiter>();
  #next = 0;
  #closed = false;
  readonly #onGone: (detail: string) => void;

  /** `onGone` hears why a worker ended unasked (a crash), once per worker. */
  constructor(onGone: (detail: string) => void = () => {}) {
    this.#onGone = onGone;
  }

  /** Checks sent and not yet answered. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Whether `password` matches `hash`; rejects when the worker failed or the verifier is closed. */
  verify(password: string, hash: string): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error("the bcrypt worker is closed"));
    const worker = this.#worker ?? this.#start();
    const id = this.#next++;
    return new Promise<boolean>((resolve, reject) => {
      // While a check waits, the worker keeps the process alive; idle, it never does.
      if (this.#waiting.size === 0) worker.ref();
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash } satisfies BcryptRequest);
    });
  }

  #start(): Worker {
    const worker = new Worker(MODULE, { name: "bcrypt", resourceLimits: HEAP_LIMITS });
    worker.unref();
    this.#worker = worker;
    worker.on("message", (m: BcryptAnswer) => {
      const waiter = this.#waiting.get(m.id);
      if (waiter === undefined) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) worker.unref();
      waiter.resolve(m.ok);
    });
    const gone = (detail: string) => {
      if (this.#worker !== worker) return; // replaced or closed already
      this.#worker = undefined;
      this.#failAll(new Error(`the bcrypt worker ended: ${detail}`));
      if (!this.#closed) this.#onGone(detail);
    };
    worker.on("error", (e: Error) => gone(e.message));
    worker.on("exit", (code: number) => gone(`exited with code ${code}`));
    return worker;
  }

  #failAll(err: Error): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) w.reject(err);
  }

  /** Ends the worker; checks still waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new Error("the bcrypt worker is closed"));
    if (worker) await worker.terminate();
  }
}
