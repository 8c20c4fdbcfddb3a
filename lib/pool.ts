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
import { LatencyWindow } from "./latency.ts";

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

  constructor(readonly spec: BackendSpec, now: number) {
    this.lastChange = now;
  }

  /** Canonical origin, also the id and metric label. */
  get id(): string {
    return this.spec.origin;
  }

  get up(): boolean {
    return this.health.up;
  }
}

/** A change of a backend's health, reported once per flip. */
export interface HealthFlip {
  readonly backend: Backend;
  readonly up: boolean;
  readonly reason: string;
}

/** Holds every backend and the healthy snapshot. */
export class Pool {
  readonly backends: readonly Backend[];
  #healthy: readonly Backend[];
  readonly #health: HealthConfig;
  readonly #listeners: ((flip: HealthFlip) => void)[] = [];

  constructor(specs: readonly BackendSpec[], health: HealthConfig, now: number) {
    this.backends = specs.map((s) => new Backend(s, now));
    this.#health = health;
    this.#healthy = this.backends.filter((b) => b.up);
  }

  /** Healthy backends, in configuration order. Never mutated; replaced on change. */
  get healthy(): readonly Backend[] {
    return this.#healthy;
  }

  /** Subscribes to health flips. */
  onFlip(listener: (flip: HealthFlip) => void): void {
    this.#listeners.push(listener);
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

  #flipped(backend: Backend, reason: string, now: number): void {
    backend.lastChange = now;
    backend.reason = reason;
    this.#healthy = this.backends.filter((b) => b.up);
    const flip = { backend, up: backend.up, reason };
    for (const listener of this.#listeners) listener(flip);
  }
}
