/**
 * The health-check scheduler: owns one timer per backend and the abort
 * signal that stops them, runs the prober, and feeds results to the pool's
 * state machine. Probes for one backend never overlap.
 *
 * @module
 */

import type { HealthConfig } from "../config/types.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { describeProbeError, type Prober } from "./tcp_probe.ts";

/** Dependencies of {@link HealthChecker}, injectable for tests. */
export interface CheckerOptions {
  readonly pool: Pool;
  readonly config: HealthConfig;
  readonly probe: Prober;
  readonly now?: () => number;
  /** Called after every probe, for metrics. */
  readonly onProbe?: (backend: Backend, ok: boolean) => void;
  /** Uniform in [0, 1), for jitter; `Math.random` by default. */
  readonly random?: () => number;
}

/** Probes are spread ±10% around their interval so they don't align. */
const JITTER = 0.1;

/** Probes every backend every interval until stopped. */
export class HealthChecker {
  readonly #opts: CheckerOptions;
  readonly #stop = new AbortController();
  readonly #timers = new Map<Backend, ReturnType<typeof setTimeout>>();
  readonly #running = new Set<Promise<void>>();
  /** Backends being probed; one leaving the pool stops its loop. */
  readonly #members = new Set<Backend>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: CheckerOptions) {
    this.#opts = options;
  }

  /**
   * Probes every backend now, then on the interval; follows the pool as
   * backends join (probed at once) and leave (no more probes).
   */
  start(): void {
    for (const backend of this.#opts.pool.backends) this.#watch(backend);
    this.#unsubscribe = this.#opts.pool.onMembership(({ backend, kind }) => {
      if (kind === "added") this.#watch(backend);
      if (kind === "removed") this.#unwatch(backend);
    });
  }

  #watch(backend: Backend): void {
    if (this.#members.has(backend)) return;
    this.#members.add(backend);
    this.#run(backend);
  }

  #unwatch(backend: Backend): void {
    this.#members.delete(backend);
    clearTimeout(this.#timers.get(backend));
    this.#timers.delete(backend);
  }

  /** Probes one backend once and applies the result. */
  async probeOnce(backend: Backend): Promise<void> {
    const { config, probe, pool } = this.#opts;
    const now = this.#opts.now ?? Date.now;
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(config.timeoutMs)]);
    let ok = true;
    let reason = "probe passed";
    try {
      await probe(backend.spec, signal);
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      ok = false;
      reason = describeProbeError(err);
    }
    pool.observe(backend, ok, reason, now());
    this.#opts.onProbe?.(backend, ok);
  }

  #run(backend: Backend): void {
    if (this.#stop.signal.aborted || !this.#members.has(backend)) return;
    const running = this.probeOnce(backend).finally(() => {
      this.#running.delete(running);
      if (this.#stop.signal.aborted || !this.#members.has(backend)) return;
      const timer = setTimeout(() => {
        this.#timers.delete(backend);
        this.#run(backend);
      }, this.#nextDelay(backend));
      this.#timers.set(backend, timer);
    });
    this.#running.add(running);
  }

  /**
   * Time to the next probe: the down interval (usually shorter) while the
   * backend is down, so it comes back sooner; jittered so probes of many
   * backends, or many balancers, don't arrive together.
   */
  #nextDelay(backend: Backend): number {
    const { intervalMs, downIntervalMs } = this.#opts.config;
    const base = backend.up ? intervalMs : Math.min(intervalMs, downIntervalMs);
    const random = this.#opts.random ?? Math.random;
    return Math.max(1, Math.round(base * (1 + JITTER * (2 * random() - 1))));
  }

  /** Stops all timers and in-flight probes, and waits for them to settle. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#unsubscribe?.();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
  }
}
