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
        let value = this.#shared.get(key) as T | undefined;
        if (value === undefined) {
          value = make();
          this.#shared.set(key, value);
        }
        return value;
      },
    };
  }

  /** Closes every shared resource (at shutdown). */
  async close(): Promise<void> {
    const all = [...this.#shared.values()];
    this.#shared.clear();
    await Promise.allSettled(all.map((r) => r.close()));
  }
}
