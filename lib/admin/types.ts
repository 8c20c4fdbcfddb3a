/**
 * The leaf types of the admin listener, shared by the routes in
 * `handler.ts` and the API in `api.ts` so neither imports the other's
 * options.
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { Pool } from "../pool/pool.ts";

/** One pool as the admin listener sees it: its runtime state and the configuration it runs. */
export interface AdminPool {
  /** Backends, health and the snapshot strategies pick from. */
  readonly pool: Pool;
  /** What the pool was configured with (strategy, health, …); `config.name` is `pool.name`. */
  readonly config: PoolConfig;
}

/**
 * The pools of the current configuration generation, in config order.
 * Called on every admin request, so a reload shows at once.
 */
export type AdminPools = () => readonly AdminPool[];
