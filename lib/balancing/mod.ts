/**
 * Balancing strategies: each picks one backend from the healthy snapshot.
 * A strategy is a small object with one required method, created by one
 * exhaustive `switch`, so an unknown name is a configuration error, never a
 * runtime one. Randomness and time come in through {@link StrategyOptions}
 * and {@link PickContext}, so tests are deterministic.
 *
 * @module
 */

import type { StrategyName } from "../config/names.ts";
import type { Strategy, StrategyOptions } from "./types.ts";
import { ConsistentHash } from "./consistent_hash.ts";
import { LeastConnections } from "./least_connections.ts";
import { P2cEwma } from "./p2c_ewma.ts";
import { WeightedRandom } from "./random.ts";
import { RoundRobin } from "./round_robin.ts";
import { StickyCookie } from "./sticky_cookie.ts";
export type { PickContext, Strategy, StrategyOptions } from "./types.ts";

/** Creates the strategy for a configured name. */
export function createStrategy(name: StrategyName, options: StrategyOptions): Strategy {
  switch (name) {
    case "round-robin":
      return new RoundRobin();
    case "least-connections":
      return new LeastConnections(options.random);
    case "p2c-ewma":
      return new P2cEwma(options.random);
    case "random":
      return new WeightedRandom(options.random);
    case "consistent-hash":
      return new ConsistentHash(options.balancing.hashKey, options.random);
    case "sticky-cookie":
      return new StickyCookie(options.balancing.stickyCookieName, options.balancing.stickySecret);
  }
}
