/**
 * Request and error rates from counters that only grow: each sample of the
 * backends' `requests` and `failures` is compared with the one before, and
 * the difference over the time between them is the rate. Pure: times are
 * arguments, so tests run on a fake clock.
 *
 * A backend seen for the first time, or whose counter went down (it left
 * and came back as a fresh member), counts from zero: its whole count is
 * what it did since it joined, which is at most one interval.
 *
 * @module
 */

/** One backend's counters at a sample. */
export interface Counters {
  /** Requests sent to it since it joined. */
  readonly requests: number;
  /** Attempts that failed before a response. */
  readonly failures: number;
}

/** One backend's rates over the last interval. */
export interface Rate {
  /** Requests sent per second. */
  readonly requestsPerSecond: number;
  /** Failed attempts per second. */
  readonly failuresPerSecond: number;
  /** Failures / requests over the interval, 0..1; null when there were no requests. */
  readonly errorRate: number | null;
}

/** The rates of every backend and their totals. */
export interface Rates {
  /** By the key the counters were given under (pool and origin). */
  readonly byKey: ReadonlyMap<string, Rate>;
  /** Over every backend. */
  readonly total: Rate;
  /** The interval they are over, ms (0 on the first sample). */
  readonly intervalMs: number;
}

const ZERO: Rate = { requestsPerSecond: 0, failuresPerSecond: 0, errorRate: null };

/** Remembers the last sample and turns each new one into rates. */
export class RateMeter {
  #at: number | undefined;
  #last: ReadonlyMap<string, Counters> = new Map();

  /**
   * Rates since the previous call, from `counters` taken at `at` (ms). The
   * first call, or one at the same time as the previous, gives zeros.
   */
  observe(at: number, counters: ReadonlyMap<string, Counters>): Rates {
    const intervalMs = this.#at === undefined ? 0 : at - this.#at;
    const byKey = new Map<string, Rate>();
    let requests = 0, failures = 0;
    for (const [key, now] of counters) {
      const before = this.#last.get(key);
      const dr = delta(before?.requests, now.requests, this.#at === undefined);
      const df = delta(before?.failures, now.failures, this.#at === undefined);
      requests += dr;
      failures += df;
      byKey.set(key, rate(dr, df, intervalMs));
    }
    this.#at = at;
    this.#last = counters;
    return { byKey, total: rate(requests, failures, intervalMs), intervalMs };
  }
}

/** Growth of a counter; a new or restarted one counts from zero, the first sample from itself. */
function delta(before: number | undefined, now: number, first: boolean): number {
  if (first) return 0;
  if (before === undefined || now < before) return now;
  return now - before;
}

/** The rates of `requests` and `failures` over `ms`. */
export function rate(requests: number, failures: number, ms: number): Rate {
  if (ms <= 0) return ZERO;
  return {
    requestsPerSecond: requests * 1000 / ms,
    failuresPerSecond: failures * 1000 / ms,
    errorRate: requests > 0 ? Math.min(1, failures / requests) : null,
  };
}
