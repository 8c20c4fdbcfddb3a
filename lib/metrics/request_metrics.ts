/**
 * Request counters and durations, with their label children cached so a
 * request costs no label lookup.
 *
 * @module
 */

import type { CounterChild, HistogramChild } from "./registry.ts";
import type { LbMetrics } from "./lb_metrics.ts";

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
]);

/** Bounds label cardinality: unknown methods count as `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/** `2xx`, `5xx`, ... */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export class RequestMetrics {
  readonly #metrics: LbMetrics;
  /**
   * Keyed by objects standing for the route and the backend: identity
   * hashing, and a route or backend gone (a reload) is forgotten.
   */
  readonly #byRoute = new WeakMap<object, WeakMap<object, BackendSeries>>();

  constructor(metrics: LbMetrics) {
    this.#metrics = metrics;
  }

  /**
   * One response on `route` (an object standing for it, labelled
   * `routeName`) from the backend `source` stands for, labelled `pool` and
   * `backend`. When no backend answered, pass the pool (or one object for
   * "no pool") as `source` and `none` as `backend`. Positional, because it
   * runs once per request and an options object would be an allocation.
   */
  record(
    route: object,
    routeName: string,
    source: object,
    pool: string,
    backend: string,
    method: string,
    status: number,
    seconds: number,
  ): void {
    let bySource = this.#byRoute.get(route);
    if (!bySource) {
      bySource = new WeakMap();
      this.#byRoute.set(route, bySource);
    }
    let series = bySource.get(source);
    if (!series) {
      series = {
        labels: [routeName, pool, backend],
        duration: this.#metrics.duration.labels(routeName, pool, backend),
        counters: [],
      };
      bySource.set(source, series);
    }
    series.duration.observe(seconds);
    // Method and class in one small integer index: no string building per request.
    const key = methodIndex(method) * 10 + Math.floor(status / 100);
    let counter = series.counters[key];
    if (!counter) {
      counter = this.#metrics.requests.labels(
        ...series.labels,
        methodLabel(method),
        statusClass(status),
      );
      series.counters[key] = counter;
    }
    counter.inc();
  }
}

interface BackendSeries {
  readonly labels: readonly [string, string, string];
  readonly duration: HistogramChild;
  readonly counters: CounterChild[];
}

/** The index of a method in {@link KNOWN_METHODS}, or past them for `OTHER`; GET first. */
function methodIndex(method: string): number {
  if (method === "GET") return 0;
  let i = 0;
  for (const known of KNOWN_METHODS) {
    if (known === method) return i;
    i++;
  }
  return i;
}
