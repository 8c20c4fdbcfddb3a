/**
 * The backend pool: configured backends, their runtime state, and the
 * snapshot of eligible ones that strategies pick from. The snapshot is a
 * readonly array rebuilt only when health or membership changes and swapped
 * whole, so a pick never sees a half-updated list and costs no filtering per
 * request. Membership changes at run time (config reload, admin API, DNS
 * discovery): a backend that stays keeps its state; a new one joins at once,
 * or after a passing health check when it was discovered; a removed one
 * drains, taking no new requests, and leaves once its last request has
 * finished.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import type { HealthConfig } from "../config/types.ts";
import { DOWN_NOW, INITIAL_HEALTH, observe } from "./health_state.ts";
import { Backend } from "./backend.ts";
import { SlowStartRamp } from "./slow_start.ts";
import { BackendTimers, DrainSweep } from "./timers.ts";
import { type EjectionEvent, type HealthFlip, Listeners, type MembershipEvent } from "./events.ts";

export type { EjectionEvent, HealthFlip, MembershipEvent };

export { Backend };

/** Runtime options of a {@link Pool}. */
export interface PoolOptions {
  /** The pool's name, for logs, metrics and the admin API. */
  readonly name: string;
  /** Time constant of each backend's latency EWMA (`--ewma-decay`). */
  readonly ewmaDecayMs: number;
  /** Weight ramp after returning to health (`--slow-start`; 0: off). */
  readonly slowStartMs: number;
  /** Clock for ejection ends and ramps (ms); `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * Holds every backend and the snapshot strategies pick from: backends that
 * are up and not ejected. Owns the timers that end ejections and ramp
 * weights during slow start; {@link Pool.close} stops them.
 */
export class Pool {
  #backends: readonly Backend[];
  #healthy: readonly Backend[];
  readonly #members = new Listeners<MembershipEvent>();
  readonly #ewmaDecayMs: number;
  /** The pool's name, from the configuration. */
  readonly name: string;
  readonly #sweep = new DrainSweep(() => this.#backends, (gone) => this.#leave(gone));
  #health: HealthConfig;
  readonly #flips = new Listeners<HealthFlip>();
  readonly #ejections = new Listeners<EjectionEvent>();
  readonly #changes = new Listeners<void>();
  readonly #now: () => number;
  /** The timer that ends each ejected backend's ejection. */
  readonly #timers = new BackendTimers();
  readonly #ramp: SlowStartRamp;

  constructor(
    specs: readonly BackendSpec[],
    health: HealthConfig,
    now: number,
    options: PoolOptions,
  ) {
    this.name = options.name;
    this.#backends = specs.map((s) => new Backend(s, now, options.ewmaDecayMs));
    this.#ewmaDecayMs = options.ewmaDecayMs;
    this.#health = health;
    this.#now = options.now ?? Date.now;
    this.#ramp = new SlowStartRamp(options.slowStartMs, this.#now, () => this.#backends);
    this.#healthy = this.#eligible();
  }

  /** Backends that are up and not ejected, in configuration order. Replaced on change, never mutated. */
  get healthy(): readonly Backend[] {
    return this.#healthy;
  }

  /** Every backend, draining ones included. Replaced on change, never mutated. */
  get backends(): readonly Backend[] {
    return this.#backends;
  }

  /** The backend with this origin, if it is in the pool. */
  find(origin: string): Backend | undefined {
    return this.#backends.find((b) => b.id === origin);
  }

  /** Subscribes to backends joining, draining and leaving; returns the unsubscribe function. */
  onMembership(listener: (event: MembershipEvent) => void): () => void {
    return this.#members.add(listener);
  }

  /** New rise/fall thresholds, from a reloaded configuration. */
  setHealthConfig(health: HealthConfig): void {
    this.#health = health;
  }

  /**
   * Makes the pool's members exactly `specs`, in one step: backends that
   * stay keep their health, counters and connections (a changed weight
   * applies at once), new ones are added (serving at once, or after a
   * passing probe with `awaitCheck`), missing ones drain.
   */
  update(
    specs: readonly BackendSpec[],
    { awaitCheck = false }: { awaitCheck?: boolean } = {},
  ): { added: Backend[]; removed: Backend[] } {
    const wanted = new Map(specs.map((s) => [s.origin, s]));
    const added: Backend[] = [];
    const removed: Backend[] = [];
    for (const b of this.#backends) {
      const spec = wanted.get(b.id);
      if (spec && !b.draining) this.#reconfigure(b, spec);
      else if (!spec && !b.draining) removed.push(b);
    }
    for (const spec of specs) {
      const existing = this.find(spec.origin);
      if (!existing || existing.draining) added.push(this.#join(spec, existing, awaitCheck));
    }
    for (const b of removed) this.#drain(b, "draining: no longer configured or discovered");
    this.#changed([...added.map((backend) => ({ backend, kind: "added" as const }))]);
    return { added, removed };
  }

  /** Adds one backend; undefined if already present. See {@link Pool.update} for `awaitCheck`. */
  add(
    spec: BackendSpec,
    { awaitCheck = false }: { awaitCheck?: boolean } = {},
  ): Backend | undefined {
    const existing = this.find(spec.origin);
    if (existing && !existing.draining) return undefined;
    const b = this.#join(spec, existing, awaitCheck);
    this.#changed([{ backend: b, kind: "added" }]);
    return b;
  }

  /** Drains and then removes one backend; false if it is not in the pool. */
  remove(origin: string): boolean {
    const b = this.find(origin);
    if (!b || b.draining) return false;
    this.#drain(b, "draining: removed (admin)");
    this.#changed([]);
    return true;
  }

  /** Changes one backend's weight; false if it is not in the pool. */
  setWeight(origin: string, weight: number): boolean {
    const b = this.find(origin);
    if (!b || b.draining) return false;
    this.#reconfigure(b, { ...b.spec, weight });
    this.#changed([]);
    return true;
  }

  /** Takes a backend out by hand, or puts it back; false if it is not in the pool. */
  setMaintenance(origin: string, on: boolean): boolean {
    const b = this.find(origin);
    if (!b || b.draining) return false;
    b.maintenance = on;
    b.lastChange = this.#now();
    b.reason = on ? "maintenance (admin)" : "back from maintenance (admin)";
    this.#changed([]);
    return true;
  }

  #reconfigure(b: Backend, spec: BackendSpec): void {
    if (spec.weight !== b.spec.weight) {
      const ramping = b.rampStartedAt >= 0;
      b.spec = spec;
      if (!ramping) b.effectiveWeight = spec.weight;
    }
  }

  /**
   * A new member. With `awaitCheck` (discovered addresses, which nobody
   * vouched for) it is down until its first passing probe; otherwise
   * (configured by a person) it serves at once, as at startup, and is probed
   * right away like every backend.
   */
  #join(spec: BackendSpec, replacing: Backend | undefined, awaitCheck: boolean): Backend {
    const b = new Backend(spec, this.#now(), this.#ewmaDecayMs);
    if (awaitCheck) {
      b.health = { up: false, streak: this.#health.rise - 1 };
      b.reason = "joining: waiting for a passing health check";
    } else {
      b.reason = "added";
    }
    this.#backends = [...this.#backends.filter((x) => x !== replacing), b];
    if (replacing) this.#members.emit({ backend: replacing, kind: "removed" });
    return b;
  }

  #drain(b: Backend, reason: string): void {
    b.draining = true;
    b.lastChange = this.#now();
    b.reason = reason;
    this.#members.emit({ backend: b, kind: "draining" });
    this.#sweep.start();
  }

  #leave(gone: readonly Backend[]): void {
    this.#backends = this.#backends.filter((b) => !gone.includes(b));
    for (const backend of gone) this.#members.emit({ backend, kind: "removed" });
    this.#changes.emit();
  }

  #changed(events: MembershipEvent[]): void {
    this.#refresh();
    for (const e of events) this.#members.emit(e);
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
  onFlip(listener: (flip: HealthFlip) => void): () => void {
    return this.#flips.add(listener);
  }

  /**
   * Subscribes to any change of what the pool shows or picks from: health,
   * ejection, maintenance, weight or membership (not slow-start steps).
   */
  onChange(listener: () => void): () => void {
    return this.#changes.add(listener);
  }

  /** Subscribes to ejections starting and ending. */
  onEjection(listener: (event: EjectionEvent) => void): () => void {
    return this.#ejections.add(listener);
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

  /**
   * Sets a backend's health as another copy of this pool decided it (a
   * worker's copy following the main thread's checks): a flip like one
   * from probes, with its ramp and events, but no rise/fall counting.
   */
  setHealth(backend: Backend, up: boolean, reason: string, at: number): void {
    if (backend.up === up) return;
    backend.health = up ? INITIAL_HEALTH : DOWN_NOW;
    this.#flipped(backend, reason, at);
  }

  /**
   * Ejects a backend until `until` (this pool's clock), then lets it back
   * with a ramp; a later `until` for one already ejected extends it.
   */
  eject(backend: Backend, until: number, reason: string): void {
    const now = this.#now();
    backend.outlier.ejectedUntil = until;
    backend.lastChange = now;
    backend.reason = reason;
    this.#refresh();
    this.#ejections.emit({ backend, ejected: true, reason });
    this.#timers.set(backend, until - now, () => {
      backend.outlier.ejectedUntil = 0;
      backend.lastChange = this.#now();
      backend.reason = "ejection ended";
      this.#ramp.start(backend);
      this.#refresh();
      this.#ejections.emit({ backend, ejected: false, reason: "ejection ended" });
    });
  }

  /** Stops ejection, ramp and drain timers. */
  close(): void {
    this.#sweep.stop();
    this.#timers.clear();
    this.#ramp.close();
  }

  /** Rebuilds the snapshot and tells the change listeners. */
  #refresh(): void {
    this.#healthy = this.#eligible();
    this.#changes.emit();
  }

  #eligible(): readonly Backend[] {
    return this.#backends.filter((b) => b.up && !b.ejected && !b.draining && !b.maintenance);
  }

  #flipped(backend: Backend, reason: string, now: number): void {
    backend.lastChange = now;
    backend.reason = reason;
    if (backend.up) this.#ramp.start(backend);
    this.#refresh();
    const flip = { backend, up: backend.up, reason };
    this.#flips.emit(flip);
  }
}
