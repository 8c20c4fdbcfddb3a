/**
 * A cap on connections per backend, with a queue. At the cap, a request
 * waits for a connection another request releases (handed over directly,
 * warm) or for a slot freed by a closed one, instead of dialing more: a
 * burst of a thousand clients must not become a thousand simultaneous
 * connects, which overflow the backend's accept queue and cost the unlucky
 * ones a one-second SYN retransmit.
 *
 * @module
 */

import { Deadlines, type Expiring } from "../../http1/deadlines.ts";
import { ClientAbortError, UpstreamError } from "../../core/transport.ts";

/** What a waiter receives: a free connection, or the right to dial one. */
export type Grant<C> = { readonly conn: C } | { readonly slot: true };

interface Waiter<C> extends Expiring {
  grant(g: Grant<C>): void;
}

/** Counts open connections per key and queues requests at the cap. */
export class Slots<C> {
  readonly #max: number;
  readonly #open = new Map<string, number>();
  readonly #waiters = new Map<string, Waiter<C>[]>();

  /** One coarse timer for every waiter's deadline, not a setTimeout each. */
  readonly #deadlines: Deadlines;

  /** At most `maxPerKey` connections per key; a waiter gives up after `waitMs`. */
  constructor(maxPerKey: number, waitMs: number) {
    this.#max = maxPerKey;
    this.#deadlines = new Deadlines(waitMs);
  }

  /** Open connections for `key` (idle ones included). */
  open(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** Takes a slot if under the cap. */
  tryTake(key: string): boolean {
    const n = this.open(key);
    if (n >= this.#max) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  /**
   * Waits for a connection or a slot, at most the `waitMs` given at
   * construction (then a
   * `pool_timeout`, which is retried elsewhere since nothing was sent, and
   * doesn't mark the backend down: the wait says the lb is congested).
   */
  wait(key: string, signal: AbortSignal): Promise<Grant<C>> {
    const deadlines = this.#deadlines;
    return new Promise((resolve, reject) => {
      let list = this.#waiters.get(key);
      if (!list) this.#waiters.set(key, list = []);
      const queue = list;
      const done = () => {
        deadlines.disarm(waiter);
        signal.removeEventListener("abort", onAbort);
        const i = queue.indexOf(waiter);
        if (i !== -1) queue.splice(i, 1);
      };
      const waiter: Waiter<C> = {
        grant: (g) => {
          done();
          resolve(g);
        },
        expire: () => {
          done();
          reject(new UpstreamError("pool_timeout", "no connection to the backend became free"));
        },
      };
      const onAbort = () => {
        done();
        reject(new ClientAbortError());
      };
      deadlines.arm(waiter);
      signal.addEventListener("abort", onAbort);
      queue.push(waiter);
    });
  }

  /** Stops the deadline timer (it restarts when someone waits again). */
  stop(): void {
    this.#deadlines.stop();
  }

  /** Offers a free connection to the first waiter; false when nobody waits. */
  handOver(key: string, conn: C): boolean {
    const waiter = this.#waiters.get(key)?.[0];
    if (!waiter) return false;
    waiter.grant({ conn });
    return true;
  }

  /** A connection closed: its slot goes to the first waiter, or is freed. */
  release(key: string): void {
    const waiter = this.#waiters.get(key)?.[0];
    if (waiter) return waiter.grant({ slot: true });
    const n = this.open(key) - 1;
    if (n <= 0) this.#open.delete(key);
    else this.#open.set(key, n);
  }
}
