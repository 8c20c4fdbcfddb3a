/**
 * The backend pool: configured backends, their runtime state, and the
 * snapshot of healthy ones that strategies pick from. The snapshot is a
 * readonly array rebuilt only when health changes and swapped whole, so a
 * pick never sees a half-updated list and costs no filtering per request.
 *
 * @module
 */

import type { BackendSpec, HealthConfig } from "./config.ts";
import { DOWN_NOW, type HealthState, INITIAL_HEALTH, observe } from "./health/state.ts";
import { PeakEwma } from "./ewma.ts";
import { LatencyWindow } from "./latency.ts";
import { newOutlierState, type OutlierState } from "./resilience/outlier.ts";
import { rampedWeight } from "./resilience/slow_start.ts";

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

  constructor(readonly spec: BackendSpec, now: number, ewmaDecayMs = 10_000) {
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

/** A change of a backend's health, reported once per flip. */
export interface HealthFlip {
  readonly backend: Backend;
  readonly up: boolean;
  readonly reason: string;
}

/** Runtime options of a {@link Pool}. */
export interface PoolOptions {
  /** Time constant of each backend's latency EWMA. */
  readonly ewmaDecayMs?: number;
  /** Weight ramp after returning to health (0: off). */
  readonly slowStartMs?: number;
  /** Clock for ejection ends and ramps (ms); `Date.now` by default. */
  readonly now?: () => number;
}

/** An ejection starting or ending. */
export interface EjectionEvent {
  readonly backend: Backend;
  readonly ejected: boolean;
  readonly reason: string;
}

/**
 * Holds every backend and the snapshot strategies pick from: backends that
 * are up and not ejected. Owns the timers that end ejections and ramp
 * weights during slow start; {@link Pool.close} stops them.
 */
export class Pool {
  readonly backends: readonly Backend[];
  #healthy: readonly Backend[];
  readonly #health: HealthConfig;
  readonly #flipListeners: ((flip: HealthFlip) => void)[] = [];
  readonly #ejectListeners: ((event: EjectionEvent) => void)[] = [];
  readonly #slowStartMs: number;
  readonly #now: () => number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #rampTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    specs: readonly BackendSpec[],
    health: HealthConfig,
    now: number,
    options: PoolOptions = {},
  ) {
    this.backends = specs.map((s) => new Backend(s, now, options.ewmaDecayMs));
    this.#health = health;
    this.#slowStartMs = options.slowStartMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#healthy = this.#eligible();
  }

  /** Backends that are up and not ejected, in configuration order. Replaced on change, never mutated. */
  get healthy(): readonly Backend[] {
    return this.#healthy;
  }

  /** The pool's clock (ms): ejection ends and ramps are on it. */
  now(): number {
    return this.#now();
  }

  /** Backends ejected now. */
  get ejectedCount(): number {
    return this.backends.filter((b) => b.ejected).length;
  }

  /** Subscribes to health flips. */
  onFlip(listener: (flip: HealthFlip) => void): void {
    this.#flipListeners.push(listener);
  }

  /** Subscribes to ejections starting and ending. */
  onEjection(listener: (event: EjectionEvent) => void): void {
    this.#ejectListeners.push(listener);
  }

  /** Feeds one active probe result through the rise/fall state machine. */
  observe(backend: Backend, ok: boolean, reason: string, now: number): void {
    const { state, flipped } = observe(backend.health, ok, this.#health);
    backend.health = state;
    if (flipped) this.#flipped(backend, reason, now);
  }

  /**
   * Takes a backend down at once, after a connect failure on live traffic:
   * waiting for `fall` probes would send it more requests that fail the same way.
   */
  markDown(backend: Backend, reason: string, now: number): void {
    if (!backend.up) return;
    backend.health = DOWN_NOW;
    this.#flipped(backend, reason, now);
  }

  /** Ejects a backend until `until` (this pool's clock), then lets it back with a ramp. */
  eject(backend: Backend, until: number, reason: string): void {
    const now = this.#now();
    backend.outlier.ejectedUntil = until;
    backend.lastChange = now;
    backend.reason = reason;
    this.#healthy = this.#eligible();
    for (const l of this.#ejectListeners) l({ backend, ejected: true, reason });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      backend.outlier.ejectedUntil = 0;
      backend.lastChange = this.#now();
      backend.reason = "ejection ended";
      this.#startRamp(backend);
      this.#healthy = this.#eligible();
      for (const l of this.#ejectListeners) {
        l({ backend, ejected: false, reason: "ejection ended" });
      }
    }, Math.max(0, until - now));
    this.#timers.add(timer);
  }

  /** Stops ejection and ramp timers. */
  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    clearInterval(this.#rampTimer);
    this.#rampTimer = undefined;
  }

  #eligible(): readonly Backend[] {
    return this.backends.filter((b) => b.up && !b.ejected);
  }

  #flipped(backend: Backend, reason: string, now: number): void {
    backend.lastChange = now;
    backend.reason = reason;
    if (backend.up) this.#startRamp(backend);
    this.#healthy = this.#eligible();
    const flip = { backend, up: backend.up, reason };
    for (const listener of this.#flipListeners) listener(flip);
  }

  /** Slow start: lower the weight now and raise it on a timer until the window ends. */
  #startRamp(backend: Backend): void {
    if (this.#slowStartMs <= 0) return;
    backend.rampStartedAt = this.#now();
    this.#updateRamps();
    if (this.#rampTimer !== undefined) return;
    const tick = Math.max(50, Math.floor(this.#slowStartMs / 20));
    this.#rampTimer = setInterval(() => this.#updateRamps(), tick);
  }

  #updateRamps(): void {
    const now = this.#now();
    let ramping = false;
    for (const b of this.backends) {
      if (b.rampStartedAt < 0) continue;
      const elapsed = now - b.rampStartedAt;
      b.effectiveWeight = rampedWeight(b.weight, elapsed, this.#slowStartMs);
      if (elapsed >= this.#slowStartMs) b.rampStartedAt = -1;
      else ramping = true;
    }
    if (!ramping && this.#rampTimer !== undefined) {
      clearInterval(this.#rampTimer);
      this.#rampTimer = undefined;
    }
  }
}
