/**
 * What a library user can inject into a load balancer: every part has a
 * production default.
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { Transport } from "../core/transport.ts";
import type { Prober } from "../health/tcp_probe.ts";
import type { LbHooks } from "../proxy/hooks.ts";

/** What can be injected; each part has a production default. */
export interface LbOptions {
  /** The health probe of every pool (default: TCP, or HTTP with `health-path`). */
  readonly probe?: Prober;
  /** Builds each pool's transport (default: by its `transport` name). */
  readonly transport?: (pool: PoolConfig) => Transport;
  /** The hooks of the library API. */
  readonly hooks?: LbHooks;
  /** Uniform in [0, 1), for the strategies; `Math.random` by default. */
  readonly random?: () => number;
  /** Monotonic milliseconds, for the proxy core; `performance.now` by default. */
  readonly now?: () => number;
  /** Bind the traffic listener (default true); without it only the load balancer's `handle` serves. */
  readonly listen?: boolean;
}
