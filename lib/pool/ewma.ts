/**
 * Peak-EWMA latency, as Finagle and Linkerd score backends: an exponentially
 * weighted moving average that decays with *time* (not request count), and
 * jumps straight up to any sample above it, so a backend that turns slow is
 * penalised at once and forgiven gradually. The estimate decays toward zero
 * while no samples arrive (an idle backend becomes attractive again), and a
 * new sample is compared with, and blended into, that decayed estimate, so it
 * always moves the estimate toward itself, never past it.
 *
 * @module
 */

/** A peak-sensitive, time-decayed latency estimate (milliseconds). */
export class PeakEwma {
  #value = 0;
  #at = 0;

  /** `decayMs`: the time constant tau; a sample's weight falls to 1/e after tau. */
  constructor(readonly decayMs: number) {}

  /** Adds a latency sample observed at `now` (monotonic ms). */
  observe(latencyMs: number, now: number): void {
    const current = this.value(now);
    if (latencyMs > current) {
      this.#value = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, now - this.#at) / this.decayMs);
      this.#value = current * w + latencyMs * (1 - w);
    }
    this.#at = now;
  }

  /** The estimate at `now`, decayed toward zero since the last sample. */
  value(now: number): number {
    if (this.#value === 0) return 0;
    return this.#value * Math.exp(-Math.max(0, now - this.#at) / this.decayMs);
  }
}
