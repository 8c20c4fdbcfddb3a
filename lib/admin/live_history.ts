/**
 * The totals over time the dashboard draws as small charts: one point per
 * sample, kept for a window (5 minutes by default) and at most `capacity`
 * points, so it stays a fixed size however often it is sampled. Pure: the
 * caller gives each point its time.
 *
 * @module
 */

/** The totals at one sample. */
export interface HistoryPoint {
  /** When it was sampled, epoch ms. */
  readonly at: number;
  /** Requests sent to backends per second, over every pool, since the previous sample. */
  readonly requestsPerSecond: number;
  /** Attempts that failed before a response, per second. */
  readonly errorsPerSecond: number;
  /**
   * The highest p50 and p99 of any backend (ms; null before any request):
   * the slowest backend, which is what a chart of "is anything slow" needs.
   */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** Options of a {@link History}. */
export interface HistoryOptions {
  /** How far back points are kept, ms; 5 minutes by default. */
  readonly windowMs?: number;
  /** Most points kept (the oldest go first); 600 by default (2 per second for 5 minutes). */
  readonly capacity?: number;
}

/** A time-bounded ring of {@link HistoryPoint}s. */
export class History {
  readonly #windowMs: number;
  readonly #capacity: number;
  #points: HistoryPoint[] = [];

  constructor(options: HistoryOptions = {}) {
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#capacity = options.capacity ?? 600;
  }

  /** Adds a point (times must not go backwards) and drops what fell out of the window. */
  add(point: HistoryPoint): void {
    this.#points.push(point);
    const oldest = point.at - this.#windowMs;
    let drop = Math.max(0, this.#points.length - this.#capacity);
    while (drop < this.#points.length && this.#points[drop].at < oldest) drop++;
    if (drop > 0) this.#points = this.#points.slice(drop);
  }

  /** The points in the window ending at `now`, oldest first. */
  points(now: number): readonly HistoryPoint[] {
    const oldest = now - this.#windowMs;
    return this.#points.filter((p) => p.at >= oldest);
  }

  /** The newest point, if any. */
  get latest(): HistoryPoint | undefined {
    return this.#points.at(-1);
  }
}
