/**
 * One pool as a request sees it during one configuration generation: the
 * pool's state (which outlives generations), its strategy, transport and
 * settings, and the per-generation resilience state (retry budget,
 * per-backend limiters). A reload builds new upstreams around the same
 * pools, so a request finishes with the settings it started with.
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { Transport } from "../core/transport.ts";
import type { Strategy } from "../balancing/types.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { BackendLimiter } from "../resilience/limiter.ts";
import { RetryBudget } from "../resilience/retry_budget.ts";

/** A pool ready to take requests. */
export interface Upstream {
  /** The pool's name (a metric label). */
  readonly name: string;
  readonly pool: Pool;
  readonly strategy: Strategy;
  readonly transport: Transport;
  readonly config: PoolConfig;
  readonly budget: RetryBudget;
  /** Seconds a 503 tells clients to wait: about one health-check interval. */
  readonly retryAfterSeconds: number;
  /** Whether each attempt has a shorter timeout than the whole request (`--try-timeout`). */
  readonly perTryTimeout: boolean;
  /** The concurrency limiter of one backend (`--max-connections-per-backend`). */
  limiter(backend: Backend): BackendLimiter;
}

/** Builds the upstream for one pool and one generation. */
export function createUpstream(
  pool: Pool,
  config: PoolConfig,
  strategy: Strategy,
  transport: Transport,
): Upstream {
  const limiters = new WeakMap<Backend, BackendLimiter>();
  const max = config.limits.maxPerBackend;
  return {
    name: config.name,
    pool,
    strategy,
    transport,
    config,
    budget: new RetryBudget(config.retry.budgetPercent, config.retry.budgetMinPerSecond),
    retryAfterSeconds: Math.max(1, Math.ceil(config.health.intervalMs / 1000)),
    perTryTimeout: config.retry.tryTimeoutMs < config.responseTimeoutMs,
    limiter(backend) {
      let l = limiters.get(backend);
      if (!l) {
        // Queue up to ten requests per slot before answering 503 at once.
        l = new BackendLimiter(max, max * 10);
        limiters.set(backend, l);
      }
      return l;
    },
  };
}
