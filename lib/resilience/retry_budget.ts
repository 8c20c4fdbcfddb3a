/**
 * A retry budget (Envoy's `retry_budget`, Finagle's RetryBudget): retries may
 * be at most a percentage of recent requests, plus a small floor per second
 * so a quiet balancer can still retry. When a backend fails everything, a
 * budget keeps retries from multiplying the load on the rest of the pool.
 *
 * Counts live in one-second buckets over a ten-second window. Time is a
 * parameter, so tests run on a fake clock.
 *
 * @module
 */

const BUCKETS = 10;
const BUCKET_MS = 1000;

/** Tracks requests and retries in a sliding window. */
export class RetryBudget {
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #bucket = -1;

  /**
   * `percent`: retries allowed per 100 requests in the window;
   * `minPerSecond`: retries always allowed per second of window.
   */
  constructor(readonly percent: number, readonly minPerSecond: number) {}

  /** Counts a client request (not a retry). */
  recordRequest(now: number): void {
    this.#requests[this.#advance(now)]++;
  }

  /** Takes one retry from the budget if there is room; false when exhausted. */
  tryRetry(now: number): boolean {
    const i = this.#advance(now);
    let requests = 0;
    let retries = 0;
    for (let b = 0; b < BUCKETS; b++) {
      requests += this.#requests[b];
      retries += this.#retries[b];
    }
    const allowed = Math.max(
      (requests * this.percent) / 100,
      this.minPerSecond * BUCKETS,
    );
    if (retries + 1 > allowed) return false;
    this.#retries[i]++;
    return true;
  }

  /** Moves to the bucket for `now`, clearing buckets that fell out of the window. */
  #advance(now: number): number {
    const bucket = Math.floor(now / BUCKET_MS);
    if (this.#bucket === -1) this.#bucket = bucket;
    const steps = Math.min(BUCKETS, bucket - this.#bucket);
    for (let s = 1; s <= steps; s++) {
      const i = (this.#bucket + s) % BUCKETS;
      this.#requests[i] = 0;
      this.#retries[i] = 0;
    }
    if (bucket > this.#bucket) this.#bucket = bucket;
    return this.#bucket % BUCKETS;
  }
}
