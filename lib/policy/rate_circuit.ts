/**
 * The circuit in front of a rate-limit store, so a slow or dead Redis costs
 * bounded latency: after `threshold` failures in a row (errors, timeouts,
 * a lost connection) it opens and nothing is asked for `coolDownMs`; then
 * one check goes as a probe while the others still fall back, and its
 * outcome closes the circuit or opens it for another cool-down. Pure: the
 * clock is an argument.
 *
 * @module
 */

/** What {@link Circuit.allow} lets a check do. */
export type Admission = "no" | "yes" | "probe";

/** A circuit breaker's state and its transitions. */
export class Circuit {
  #failures = 0;
  #open = false;
  #until = 0;
  #probing = false;

  /** Opens after `threshold` consecutive failures, for `coolDownMs` each time. */
  constructor(readonly threshold: number, readonly coolDownMs: number) {}

  /** Whether the circuit is open (a probe in flight included). */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Whether a check may go to the store at `now`: always when closed, one probe after a cool-down. */
  allow(now: number): Admission {
    if (!this.#open) return "yes";
    if (this.#probing || now < this.#until) return "no";
    this.#probing = true;
    return "probe";
  }

  /** The store answered; true when that closed an open circuit (say so once). */
  success(): boolean {
    this.#failures = 0;
    this.#probing = false;
    if (!this.#open) return false;
    this.#open = false;
    return true;
  }

  /**
   * A check failed at `now` (`probe`: it was the probe). True when this
   * opened a closed circuit. Late failures of checks sent before it opened
   * change nothing: only the probe decides an open circuit's fate.
   */
  failure(now: number, probe: boolean): boolean {
    if (this.#open) {
      if (probe) {
        this.#probing = false;
        this.#until = now + this.coolDownMs;
      }
      return false;
    }
    if (++this.#failures < this.threshold) return false;
    this.#open = true;
    this.#until = now + this.coolDownMs;
    return true;
  }

  /** Milliseconds until the next probe may go (0 when closed or due). */
  retryInMs(now: number): number {
    return this.#open ? Math.max(0, this.#until - now) : 0;
  }
}
