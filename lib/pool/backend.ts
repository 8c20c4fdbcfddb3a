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
  /** When its state last changed (health, ejection, drain, maintenance): pool clock, epoch ms. */
  lastChange: number;
  /** Why its state last changed, e.g. `starting` or a probe's error; shown in `/status`. */
  reason = "starting";
  #inFlight = 0;
  #requests = 0;
  #failures = 0;
  /** Response-header latency of recent attempts, for `/status`. */
  readonly latency: LatencyWindow = new LatencyWindow();
  /** Peak-EWMA of response-header latency, for `p2c-ewma`. */
  readonly ewma: PeakEwma;
  /**
   * The weight strategies use now: the configured weight, or less while
   * the backend ramps up after returning to health (slow start).
   */
  effectiveWeight: number;
  /** When the current slow-start ramp began (ms, pool clock), or -1 when it is not ramping. */
  rampStartedAt: number = -1;
  /** Passive outlier-detection state. */
  readonly outlier: OutlierState = newOutlierState();

  /** Taking no new requests; leaves the pool when `inFlight` reaches 0. */
  draining = false;
  /** Taken out by hand (admin API) until put back. */
  maintenance = false;

  /** `ewmaDecayMs` comes from the pool's `--ewma-decay`. */
  constructor(public spec: BackendSpec, now: number, ewmaDecayMs: number) {
    this.lastChange = now;
    this.ewma = new PeakEwma(ewmaDecayMs);
    this.effectiveWeight = spec.weight;
  }

  /** Requests sent to this backend whose responses are not yet fully delivered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests sent to it. */
  get requests(): number {
    return this.#requests;
  }

  /** Attempts that failed before a response. */
  get failures(): number {
    return this.#failures;
  }

  // The three counters change only here, in pairs a caller can't get wrong:
  // every begin() ends in exactly one fail() or settle().

  /** An attempt is being sent to this backend. */
  begin(): void {
    this.#inFlight++;
    this.#requests++;
  }

  /** The attempt got response headers after `ms` (at monotonic `at`): feeds the EWMA and latency window. */
  answered(ms: number, at: number): void {
    this.ewma.observe(ms, at);
    this.latency.add(ms);
  }

  /** The attempt failed before a response; it is no longer in flight. */
  fail(): void {
    this.#inFlight--;
    this.#failures++;
  }

  /** The answered request is over (delivered or abandoned). */
  settle(): void {
    this.#inFlight--;
  }

  /** Configured weight (1 unless set with `URL=weight`). */
  get weight(): number {
    return this.spec.weight;
  }

  /** Canonical origin, also the id and metric label. */
  get id(): string {
    return this.spec.origin;
  }

  /** Whether health checks (or a connect failure on live traffic) last left it up. */
  get up(): boolean {
    return this.health.up;
  }

  /** Whether outlier detection has taken it out of rotation. */
  get ejected(): boolean {
    return this.outlier.ejectedUntil > 0;
  }
}
