/**
 * The runtime state of one backend: health, in-flight and request counters,
 * latency, slow-start weight, outlier state, and whether it is draining or in
 * maintenance. The configured part is its `BackendSpec`; the `Pool` in
 * `pool.ts` owns the backends and changes their state.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import { type HealthState, INITIAL_HEALTH } from "./health_state.ts";
import { PeakEwma } from "./ewma.ts";
import { LatencyWindow } from "./latency.ts";
import { newOutlierState, type OutlierState } from "../resilience/outlier.ts";

/** A configured backend plus its runtime state. */
export class Backend {
  /** Health as the state machine sees it. */
  health: HealthState = INITIAL_HEALTH;
  /** When `health.up` last changed (epoch ms), and why. */
  lastChange: number;
  reason = "starting";
  /** Requests picked for this backend whose responses are not yet fully delivered. */
  inFlight = 0;
  /** Requests sent, and those that failed before a response. */
  requests = 0;
  failures = 0;
  readonly latency = new LatencyWindow();
  /** Peak-EWMA of response-header latency, for `p2c-ewma`. */
  readonly ewma: PeakEwma;
  /**
   * The weight strategies use now: the configured weight, or less while
   * the backend ramps up after returning to health (slow start).
   */
  effectiveWeight: number;
  /** When the current slow-start ramp began (pool clock), or -1. */
  rampStartedAt = -1;
  /** Passive outlier-detection state. */
  readonly outlier: OutlierState = newOutlierState();

  /** Taking no new requests; leaves the pool when `inFlight` reaches 0. */
  draining = false;
  /** Taken out by hand (admin API) until put back. */
  maintenance = false;

  constructor(public spec: BackendSpec, now: number, ewmaDecayMs = 10_000) {
    this.lastChange = now;
    this.ewma = new PeakEwma(ewmaDecayMs);
    this.effectiveWeight = spec.weight;
  }

  /** Configured weight (1 unless set with `URL=weight`). */
  get weight(): number {
    return this.spec.weight;
  }

  /** Canonical origin, also the id and metric label. */
  get id(): string {
    return this.spec.origin;
  }

  get up(): boolean {
    return this.health.up;
  }

  /** Whether outlier detection has taken it out of rotation. */
  get ejected(): boolean {
    return this.outlier.ejectedUntil > 0;
  }
}
