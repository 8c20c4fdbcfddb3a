/**
 * Coarse deadlines for many concurrent exchanges on one timer. Arming and
 * clearing a `setTimeout` per request cost about a microsecond each, a
 * measurable share of a proxied request; here arming is a `Set.add`. A
 * deadline fires between its time and one tick later.
 *
 * @module
 */

/** Something that can time out. */
export interface Expiring {
  /** Called once, when its deadline has passed. */
  expire(): void;
}

/** One timeout length, many deadlines. */
export class Deadlines {
  readonly #ticks: number;
  readonly #tickMs: number;
  #tick = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #due = new Map<Expiring, number>();

  /** Deadlines `timeoutMs` after arming, checked every `timeoutMs / 8` (10-250 ms). */
  constructor(timeoutMs: number) {
    this.#tickMs = Math.max(10, Math.min(250, Math.floor(timeoutMs / 8)));
    this.#ticks = Math.ceil(timeoutMs / this.#tickMs);
  }

  /** Starts `item`'s deadline. */
  arm(item: Expiring): void {
    // +1: the current tick is already partly over.
    this.#due.set(item, this.#tick + this.#ticks + 1);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#onTick(), this.#tickMs);
      // Never keep the process alive just to watch deadlines.
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  /** Cancels `item`'s deadline, if armed. */
  disarm(item: Expiring): void {
    this.#due.delete(item);
  }

  #onTick(): void {
    const now = ++this.#tick;
    for (const [item, due] of this.#due) {
      if (due > now) continue;
      this.#due.delete(item);
      item.expire();
    }
    if (this.#due.size === 0) this.stop();
  }

  /** Stops the timer (deadlines armed later restart it). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
