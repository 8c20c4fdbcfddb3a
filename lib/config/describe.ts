/**
 * A one-line summary of a configuration, for `lb --check`: its pools (how
 * many backends or what discovery, and the strategy) and its routes.
 *
 * @module
 */

import { showDiscoverTarget } from "./parsers.ts";
import type { LbConfig, PoolConfig } from "./types.ts";

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function describePool(pool: PoolConfig): string {
  const sources: string[] = [];
  const targets = pool.discovery.targets;
  if (pool.backends.length > 0 || targets.length === 0) {
    sources.push(count(pool.backends.length, "backend"));
  }
  if (targets.length > 0) sources.push(`discovery ${targets.map(showDiscoverTarget).join(",")}`);
  return `${pool.name}: ${sources.join(" + ")}, ${pool.strategy}`;
}

/**
 * E.g. `2 pools (web: 3 backends, round-robin; api: discovery
 * dns:api.internal:80, p2c-ewma), 3 routes (api, canary, default)`. Pure.
 */
export function describeConfig(config: LbConfig): string {
  const pools = config.pools.map(describePool).join("; ");
  const routes = config.routes.map((r) => r.name).join(", ");
  return `${count(config.pools.length, "pool")} (${pools}), ` +
    `${count(config.routes.length, "route")} (${routes})`;
}
