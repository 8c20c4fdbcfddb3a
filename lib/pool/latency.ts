/**
 * A fixed-size window of recent latencies for `/status` percentiles. Writing
 * is one array store on the request path; sorting happens only when someone
 * asks for percentiles.
 *
 * @module
 */

/** Keeps the last `capacity` samples (milliseconds). */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  /** Keeps `capacity` samples (1024 by default); each new one past that replaces the oldest. */
  constructor(capacity = 1024) {
    this.#samples = new Float64Array(capacity);
  }

  /** Records one sample. */
  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count++;
  }

  /** Nearest-rank percentiles of the window, or null when empty. */
  percentiles(qs: readonly number[]): (number | null)[] {
    return percentilesOf(this.samples(), qs);
  }

  /** A copy of the samples in the window, in no particular order. */
  samples(): Float64Array {
    return this.#samples.slice(0, this.#count);
  }
}

/** Nearest-rank percentiles of `samples` (sorted in place), or nulls when empty. */
export function percentilesOf(samples: Float64Array, qs: readonly number[]): (number | null)[] {
  if (samples.length === 0) return qs.map(() => null);
  const sorted = samples.sort();
  const last = sorted.length - 1;
  return qs.map((q) => sorted[Math.min(last, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
}
