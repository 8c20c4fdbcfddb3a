/**
 * Passive outlier detection (Envoy's `outlier_detection`): consecutive
 * errors on live traffic eject a backend for a while, longer each time it
 * happens again; never more than `maxEjectionPercent` of the pool is out at
 * once, so a bad signal can't empty the pool (the panic floor). Pure state
 * and decisions; the caller owns timers and the pool.
 *
 * @module
 */

import type { OutlierConfig } from "../config/types.ts";

/** Per-backend outlier state. */
export interface OutlierState {
  /** Errors in a row on live traffic. */
  consecutive: number;
  /** How many times it has been ejected. */
  ejections: number;
  /** When the current ejection ends (monotonic ms), or 0 when not ejected. */
  ejectedUntil: number;
}

/** A fresh state. */
export function newOutlierState(): OutlierState {
  return { consecutive: 0, ejections: 0, ejectedUntil: 0 };
}

/**
 * Records one result. Returns the ejection to apply (its end time), or
 * undefined. `ejectedNow` and `poolSize` enforce the ejection ceiling.
 */
export function recordResult(
  state: OutlierState,
  ok: boolean,
  now: number,
  config: OutlierConfig,
  ejectedNow: number,
  poolSize: number,
): number | undefined {
  if (ok) {
    state.consecutive = 0;
    return undefined;
  }
  // Errors from requests still in flight when it was ejected say nothing new.
  if (state.ejectedUntil > now) return undefined;
  state.consecutive++;
  if (config.consecutiveErrors === 0 || state.consecutive < config.consecutiveErrors) {
    return undefined;
  }
  // The panic floor: at most maxEjectionPercent of the pool, but always
  // allow one ejection in a pool of two or more when the percent is non-zero.
  const ceiling = Math.max(
    config.maxEjectionPercent > 0 && poolSize > 1 ? 1 : 0,
    Math.floor((poolSize * config.maxEjectionPercent) / 100),
  );
  if (ejectedNow >= ceiling) return undefined;
  state.ejections++;
  state.consecutive = 0;
  // Base time, growing linearly with repeated ejections, as Envoy does.
  state.ejectedUntil = now + config.baseEjectionMs * state.ejections;
  return state.ejectedUntil;
}
