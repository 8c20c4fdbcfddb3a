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
