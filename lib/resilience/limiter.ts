/**
 * `--max-connections-per-backend`: a cap on requests in flight to one
 * backend, with a bounded FIFO queue. Excess requests wait for a slot; a full
 * queue, or a wait longer than `--queue-timeout`, answers 503 with
 * Retry-After instead of piling more work on a saturated backend.
 *
 * @module
 */

import { ClientAbortError } from "../core/transport.ts";

/** Why a request could not get a slot. */
export class QueueRejected extends Error {
  constructor(readonly reason: "full" | "timeout") {
    super(reason === "full" ? "backend queue is full" : "timed out waiting for a backend slot");
    this.name = "QueueRejected";
  }
}

interface Waiter {
  resolve(): void;
}

/** One backend's concurrency limit and queue. */
export class BackendLimiter {
  #active = 0;
  readonly #queue: Waiter[] = [];

  /** `max`: in-flight cap (0: unlimited); `queueSize`: most waiters. */
  constructor(readonly max: number, readonly queueSize: number) {}

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether a request would get a slot without waiting. */
  get available(): boolean {
    return this.max === 0 || this.#active < this.max;
  }

  /** Takes a slot now or after waiting; rejects with {@link QueueRejected}. */
  acquire(timeoutMs: number, signal: AbortSignal): Promise<void> | undefined {
    if (this.available) {
      this.#active++;
      return undefined;
    }
    if (signal.aborted) return Promise.reject(new ClientAbortError());
    if (this.#queue.length >= this.queueSize) return Promise.reject(new QueueRejected("full"));
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const i = this.#queue.indexOf(waiter);
        if (i !== -1) this.#queue.splice(i, 1);
      };
      const waiter: Waiter = {
        resolve: () => {
          leave();
          resolve();
        },
      };
      const onAbort = () => {
        leave();
        reject(new ClientAbortError());
      };
      const timer = setTimeout(() => {
        leave();
        reject(new QueueRejected("timeout"));
      }, timeoutMs);
      signal.addEventListener("abort", onAbort);
      this.#queue.push(waiter);
    });
  }

  /** Returns a slot: the first waiter gets it, or it is freed. */
  release(): void {
    const next = this.#queue[0];
    if (next) next.resolve(); // the slot passes on; #active is unchanged
    else this.#active--;
  }
}
