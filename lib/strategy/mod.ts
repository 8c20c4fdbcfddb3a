/**
 * Balancing strategies: each picks one backend from the healthy snapshot.
 * A strategy is a tiny object with one method, created by one exhaustive
 * `switch`, so an unknown name is a configuration error, never a runtime one.
 *
 * @module
 */

import type { Backend } from "../pool.ts";
import { RoundRobin } from "./round_robin.ts";

/** Names accepted by `--strategy`. */
export const STRATEGY_NAMES = ["round-robin"] as const;
/** A strategy name. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What a strategy may know about the request it is picking for. */
export interface PickContext {
  /** Backends already tried for this request (retries go elsewhere). */
  readonly exclude?: ReadonlySet<Backend>;
}

/** Picks a backend from a snapshot; `undefined` when none is eligible. */
export interface Strategy {
  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined;
}

/** Creates the strategy for a configured name. */
export function createStrategy(name: StrategyName): Strategy {
  switch (name) {
    case "round-robin":
      return new RoundRobin();
  }
}
