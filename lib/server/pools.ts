/**
 * The pools' runtime, which outlives configuration generations: for each
 * named pool its backend state (`Pool`), transport (connection pools),
 * health checker and DNS discovery. A reload hands the new pool configs to
 * {@link PoolSet.apply}: a pool that stays keeps its backends' health,
 * counters and connections; a new one starts; a removed one stops its
 * checks and discovery at once and closes its transport once its last
 * request has finished (or the shutdown timeout passed).
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import type { Logger } from "../core/logging.ts";
import type { Transport } from "../core/transport.ts";
import { DnsDiscovery } from "../discovery/dns.ts";
import { HealthChecker } from "../health/checker.ts";
import { httpProbe } from "../health/http_probe.ts";
import { type Prober, tcpProbe } from "../health/tcp_probe.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import { Pool } from "../pool/pool.ts";
import { createTransport } from "../transport/mod.ts";
import { forgetLeavers, watchPool } from "./pool_events.ts";
import { readBackendCaSync } from "./tls_files.ts";

/** What the pools need from outside; each part injectable for tests and library use. */
export interface PoolDeps {
  readonly metrics: LbMetrics;
  readonly log: (...category: string[]) => Logger;
  /** The health probe for every pool; by default TCP, or HTTP when the pool sets `health-path`. */
  readonly probe?: Prober;
  /** Builds a pool's transport; `createTransport` by its `transport` name by default. */
  readonly transport?: (config: PoolConfig) => Transport;
  /** Wall clock (ms) for backends' last-change times. */
  readonly now: () => number;
  /**
   * A copy in a worker thread: no health checks or discovery of its own;
   * the main thread's view arrives through `pool/replica.ts`.
   */
  readonly replica?: boolean;
  /**
   * Threads holding a copy of each pool, which split `--upstream-connections`
   * (a cap per backend over the whole process) evenly; 1 by default.
   */
  readonly sharers?: number;
}

/** One pool's runtime. */
export class PoolRuntime {
  readonly pool: Pool;
  readonly transport: Transport;
  #config: PoolConfig;
  #checker: HealthChecker | undefined;
  #discovery: DnsDiscovery | undefined;
  /** Backends found by discovery, kept apart from configured ones. */
  #discovered: readonly BackendSpec[] = [];
  readonly #deps: PoolDeps;
  readonly #unwatch: () => void;

  constructor(config: PoolConfig, deps: PoolDeps) {
    this.#deps = deps;
    this.#config = config;
    this.pool = new Pool(config.backends, config.health, deps.now(), {
      name: config.name,
      ewmaDecayMs: config.balancing.ewmaDecayMs,
      slowStartMs: config.balancing.slowStartMs,
    });
    this.#unwatch = deps.replica
      ? forgetLeavers(this.pool, deps.metrics)
      : watchPool(this.pool, deps.metrics, deps.log("lb", "health"));
    this.transport = deps.transport?.(config) ?? createTransport(config.transport, {
      connectTimeoutMs: config.connectTimeoutMs,
      // Each attempt gets the per-try timeout; the proxy enforces the overall one.
      responseTimeoutMs: config.retry.tryTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      caCerts: readBackendCaSync(config.backendCaFile),
      maxConnectionsPerBackend: share(config.limits.upstreamConnections, deps.sharers ?? 1),
    });
    this.#checker = this.#newChecker(config);
    this.#checker?.start();
    this.#discovery = this.#newDiscovery(config);
  }

  /** The configuration in force. */
  get config(): PoolConfig {
    return this.#config;
  }

  /** Applies a reloaded configuration of this pool (its name unchanged). */
  async update(next: PoolConfig): Promise<void> {
    const before = this.#config;
    this.#config = next;
    this.pool.setHealthConfig(next.health);
    // A copy's members come from the main thread, discovered ones included.
    if (!this.#deps.replica) this.pool.update([...next.backends, ...this.#discovered]);
    if (JSON.stringify(next.health) !== JSON.stringify(before.health)) {
      await this.#checker?.stop();
      this.#checker = this.#newChecker(next);
      this.#checker?.start();
    }
    if (JSON.stringify(next.discovery) !== JSON.stringify(before.discovery)) {
      await this.#discovery?.stop();
      this.#discovery = this.#newDiscovery(next);
    }
  }

  /** Sets the backends found by discovery (added to the configured ones). */
  setDiscovered(specs: readonly BackendSpec[]): void {
    this.#discovered = specs;
    // Discovered addresses get traffic only after a passing health check.
    this.pool.update([...this.#config.backends, ...specs], { awaitCheck: true });
  }

  /** Stops health checks and discovery; the pool still serves requests in flight. */
  async stopWatching(): Promise<void> {
    await this.#discovery?.stop();
    await this.#checker?.stop();
  }

  /** Stops everything; requests still in flight lose their connections. */
  async close(): Promise<void> {
    await this.stopWatching();
    this.pool.close();
    this.#unwatch();
    await this.transport.close();
  }

  /** Whether no request is in flight on any of its backends. */
  get idle(): boolean {
    return this.pool.backends.every((b) => b.inFlight <= 0);
  }

  #newChecker(config: PoolConfig): HealthChecker | undefined {
    const { metrics, probe, replica } = this.#deps;
    if (replica) return undefined;
    const name = config.name;
    return new HealthChecker({
      pool: this.pool,
      config: config.health,
      probe: probe ??
        (config.health.http
          ? httpProbe(config.health.http, readBackendCaSync(config.backendCaFile))
          : tcpProbe),
      onProbe: (b, ok) => metrics.healthProbes.labels(name, b.id, ok ? "pass" : "fail").inc(),
    });
  }

  #newDiscovery(config: PoolConfig): DnsDiscovery | undefined {
    if (config.discovery.targets.length === 0 || this.#deps.replica) return undefined;
    const discovery = new DnsDiscovery({
      ...config.discovery,
      onChange: (specs) => this.setDiscovered(specs),
      log: this.#deps.log("lb", "discovery"),
    });
    discovery.start();
    return discovery;
  }
}

/**
 * `limit` (a cap over the whole process) split among `sharers` threads, at
 * least 1 each; 0 (no limit) stays 0.
 */
export function share(limit: number, sharers: number): number {
  return limit === 0 ? 0 : Math.max(1, Math.ceil(limit / sharers));
}

/** Every pool's runtime, by name. */
export class PoolSet {
  readonly #deps: PoolDeps;
  #byName = new Map<string, PoolRuntime>();
  /** Pools removed by a reload, closing once idle. */
  readonly #retiring = new Set<Promise<void>>();

  constructor(configs: readonly PoolConfig[], deps: PoolDeps) {
    this.#deps = deps;
    for (const c of configs) this.#byName.set(c.name, new PoolRuntime(c, deps));
  }

  /** The pools, in configuration order. */
  get all(): readonly PoolRuntime[] {
    return [...this.#byName.values()];
  }

  /** The pool called `name`. */
  get(name: string): PoolRuntime | undefined {
    return this.#byName.get(name);
  }

  /**
   * Makes the set match `configs`: updates pools that stay, starts new ones,
   * and retires the rest (closed once idle, at most `retireWithinMs` later).
   */
  async apply(configs: readonly PoolConfig[], retireWithinMs: number): Promise<void> {
    const next = new Map<string, PoolRuntime>();
    for (const c of configs) {
      const existing = this.#byName.get(c.name);
      if (existing) await existing.update(c);
      next.set(c.name, existing ?? new PoolRuntime(c, this.#deps));
    }
    for (const [name, runtime] of this.#byName) {
      if (!next.has(name)) this.#retire(runtime, retireWithinMs);
    }
    this.#byName = next;
  }

  #retire(runtime: PoolRuntime, withinMs: number): void {
    const retired = (async () => {
      await runtime.stopWatching();
      const deadline = this.#deps.now() + withinMs;
      while (!runtime.idle && this.#deps.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await runtime.close();
    })();
    this.#retiring.add(retired);
    retired.finally(() => this.#retiring.delete(retired));
  }

  /** Closes every pool, retiring ones included. */
  async close(): Promise<void> {
    await Promise.all([...this.#retiring, ...this.all.map((r) => r.close())]);
  }
}
