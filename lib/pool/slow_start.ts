/**
 * Slow start (HAProxy's `slowstart`, Envoy's slow-start mode): a backend that
 * returns to health gets its weight back gradually over a window, so a cold
 * cache or JIT isn't hit with its full share at once. Linear ramp from a
 * tenth of the weight.
 *
 * @module
 */

/** The smallest share of its weight a ramping backend gets. */
export const MIN_SHARE = 0.1;

/** The weight `elapsedMs` into a ramp of `windowMs` (pure). */
export function rampedWeight(weight: number, elapsedMs: number, windowMs: number): number {
  if (windowMs <= 0 || elapsedMs >= windowMs) return weight;
  const share = Math.max(MIN_SHARE, elapsedMs / windowMs);
  return weight * share;
}

/** What a ramp adjusts: the configured weight and the one strategies use now. */
export interface RampTarget {
  readonly weight: number;
  effectiveWeight: number;
  /** When the current ramp began (the ramp's clock), or -1. */
  rampStartedAt: number;
}

/**
 * Owns the slow-start timer of a pool: {@link SlowStartRamp.start} lowers a
 * backend's weight now and a timer raises it until the window ends. One
 * interval serves every ramping backend and stops once none is ramping;
 * {@link SlowStartRamp.close} stops it.
 */
export class SlowStartRamp {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #targets: () => Iterable<RampTarget>;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `windowMs` is the ramp's length (0: off); `targets` lists the current
   * members, read on every tick so removed ones stop being ramped.
   */
  constructor(windowMs: number, now: () => number, targets: () => Iterable<RampTarget>) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#targets = targets;
  }

  /** Slow start: lower the weight now and raise it on a timer until the window ends. */
  start(target: RampTarget): void {
    if (this.#windowMs <= 0) return;
    target.rampStartedAt = this.#now();
    this.#update();
    if (this.#timer !== undefined) return;
    const tick = Math.max(50, Math.floor(this.#windowMs / 20));
    this.#timer = setInterval(() => this.#update(), tick);
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #update(): void {
    const now = this.#now();
    let ramping = false;
    for (const b of this.#targets()) {
      if (b.rampStartedAt < 0) continue;
      const elapsed = now - b.rampStartedAt;
      b.effectiveWeight = rampedWeight(b.weight, elapsed, this.#windowMs);
      if (elapsed >= this.#windowMs) b.rampStartedAt = -1;
      else ramping = true;
    }
    if (!ramping && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
