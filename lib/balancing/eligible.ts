/**
 * Which backends of a snapshot a strategy may pick for one request, and with
 * what weight. One rule shared by every policy, so they all agree on what an
 * excluded backend and a weight of zero mean.
 *
 * @module
 */

import type { Backend } from "../pool/pool.ts";

/** The backends eligible for one pick, in snapshot order, with their weights. */
export interface Eligible {
  readonly backends: readonly Backend[];
  /** `weights[i]` belongs to `backends[i]`; every one is positive. */
  readonly weights: readonly number[];
  /** The sum of `weights`. */
  readonly total: number;
}

/**
 * The backends of `snapshot` that are not in `exclude`, weighted by
 * `effectiveWeight` (not the configured weight, which slow start lowers).
 * A backend with a weight of 0 or less is left out while another has a
 * positive weight. When none has one, they all count as 1, so a request is
 * never refused while a backend remains.
 */
export function eligible(snapshot: readonly Backend[], exclude?: ReadonlySet<Backend>): Eligible {
  const backends: Backend[] = [];
  const weights: number[] = [];
  const weightless: Backend[] = [];
  let total = 0;
  for (const b of snapshot) {
    if (exclude?.has(b)) continue;
    const w = b.effectiveWeight;
    // `w > 0` is false for NaN too, so a broken weight can't poison `total`.
    if (w > 0) {
      backends.push(b);
      weights.push(w);
      total += w;
    } else {
      weightless.push(b);
    }
  }
  if (backends.length > 0 || weightless.length === 0) return { backends, weights, total };
  return { backends: weightless, weights: weightless.map(() => 1), total: weightless.length };
}
