/**
 * A pool's timers: the sweep that lets draining backends leave (one
 * interval for the whole pool, running only while some backend drains,
 * removes each once its last request has finished), and one timer per
 * ejected backend that ends its ejection.
 *
 * @module
 */

import type { Backend } from "./backend.ts";

/** How often draining backends are checked for their last request. */
const SWEEP_MS = 100;

/** Sweeps a pool's draining backends out once idle. */
export class DrainSweep {
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #members: () => readonly Backend[];
  readonly #leave: (gone: readonly Backend[]) => void;

  /** `members` lists the pool's backends; `leave` removes those whose drain finished. */
  constructor(members: () => readonly Backend[], leave: (gone: readonly Backend[]) => void) {
    this.#members = members;
    this.#leave = leave;
  }

  /** Makes sure a sweep runs (a backend has started to drain). */
  start(): void {
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Stops sweeping. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const gone = this.#members().filter((b) => b.draining && b.inFlight <= 0);
    if (gone.length > 0) this.#leave(gone);
    if (!this.#members().some((b) => b.draining)) this.stop();
  }
}

/** One timer per backend, replaced when set again (an ejection extended). */
export class BackendTimers {
  readonly #timers = new Map<Backend, ReturnType<typeof setTimeout>>();

  /** Runs `fire` for `backend` in `ms`, in place of any timer it had. */
  set(backend: Backend, ms: number, fire: () => void): void {
    clearTimeout(this.#timers.get(backend));
    this.#timers.set(
      backend,
      setTimeout(() => {
        this.#timers.delete(backend);
        fire();
      }, Math.max(0, ms)),
    );
  }

  /** Cancels every timer. */
  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
