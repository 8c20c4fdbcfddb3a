/**
 * The health state machine, as a pure function: a backend flips only after
 * `rise` consecutive passes or `fall` consecutive failures, so one lost probe
 * doesn't drop a good server and one lucky probe doesn't restore a bad one
 * (HAProxy's `rise`/`fall`, Pingora's consecutive-result flips).
 *
 * @module
 */

/** A backend's health: whether it is up, and how many results in a row disagree with that. */
export interface HealthState {
  /** Whether the backend is healthy; flips after `rise` passes or `fall` failures in a row. */
  readonly up: boolean;
  /** Consecutive results contrary to `up` (passes while down, failures while up). */
  readonly streak: number;
}

/** Thresholds for {@link observe}. */
export interface Thresholds {
  readonly rise: number;
  readonly fall: number;
}

/** The state a new backend starts in: up, so traffic flows before the first probe finishes. */
export const INITIAL_HEALTH: HealthState = { up: true, streak: 0 };

/** The state after a failure seen on live traffic: down at once; `rise` passes bring it back. */
export const DOWN_NOW: HealthState = { up: false, streak: 0 };

/** Applies one probe result. `flipped` is true exactly once per change of `up`. */
export function observe(
  state: HealthState,
  ok: boolean,
  thresholds: Thresholds,
): { state: HealthState; flipped: boolean } {
  if (ok === state.up) return { state: { up: state.up, streak: 0 }, flipped: false };
  const streak = state.streak + 1;
  const needed = state.up ? thresholds.fall : thresholds.rise;
  if (streak >= needed) return { state: { up: !state.up, streak: 0 }, flipped: true };
  return { state: { up: state.up, streak }, flipped: false };
}
