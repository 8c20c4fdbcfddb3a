/**
 * The policies' long-lived side for one thread: the shared resources
 * (Redis connections, span exporters, local bucket tables kept across
 * reloads) that configuration generations ask for by key, and their close
 * when the lb stops.
 *
 * @module
 */

import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { PolicyDeps } from "./types.ts";

type Closable = { close(): void | Promise<void> };

/** Options for {@link PolicyRuntime}. */
export interface PolicyRuntimeOptions {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  readonly now?: () => number;
  readonly wallNow?: () => number;
  readonly random?: () => number;
}

/** Owns what policies share; {@link PolicyRuntime.deps} is what they are built with. */
export class PolicyRuntime {
  readonly #shared = new Map<string, Closable>();
  /** Keys the generation being built asked for (see {@link PolicyRuntime.generation}). */
  #asked = new Set<string>();
  /** Resources no generation wants any more, waiting for the old one's requests to finish. */
  readonly #retiring = new Map<Closable, ReturnType<typeof setTimeout>>();
  /** What every policy of this thread is built with. */
  readonly deps: PolicyDeps;

  constructor(o: PolicyRuntimeOptions) {
    this.deps = {
      metrics: o.metrics,
      log: o.log,
      now: o.now ?? (() => performance.now()),
      wallNow: o.wallNow ?? (() => Date.now()),
      random: o.random ?? Math.random,
      shared: <T extends Closable>(key: string, make: () => T): T => {
        this.#asked.add(key);
        let value = this.#shared.get(key) as T | undefined;
        if (value === undefined) {
          value = make();
          this.#shared.set(key, value);
        }
        return value;
      },
    };
  }

  /**
   * Builds a generation's chains with `build`, then retires what only
   * earlier generations used (a Redis URL no longer configured, a removed
   * route's bucket table): closed after `graceMs`, when the requests that
   * began on the old generation have had their time (`--shutdown-timeout`),
   * so a reload doesn't keep connections and tables for ever.
   */
  generation<T>(build: () => T, graceMs: number): T {
    this.#asked = new Set();
    const built = build();
    for (const [key, resource] of this.#shared) {
      if (this.#asked.has(key)) continue;
      this.#shared.delete(key);
      const timer = setTimeout(() => {
        this.#retiring.delete(resource);
        void Promise.resolve(resource.close()).catch(() => {});
      }, graceMs);
      Deno.unrefTimer(timer);
      this.#retiring.set(resource, timer);
    }
    return built;
  }

  /** Closes every shared resource, retiring ones included (at shutdown). */
  async close(): Promise<void> {
    const all = [...this.#shared.values(), ...this.#retiring.keys()];
    for (const timer of this.#retiring.values()) clearTimeout(timer);
    this.#shared.clear();
    this.#retiring.clear();
    await Promise.allSettled(all.map((r) => r.close()));
  }
}
