/**
 * Balancing strategies: each picks one backend from the healthy snapshot.
 * A strategy is a small object with one required method, created by one
 * exhaustive `switch`, so an unknown name is a configuration error, never a
 * runtime one. Randomness and time come in through {@link StrategyOptions}
 * and {@link PickContext}, so tests are deterministic.
 *
 * @module
 */

import type { HeaderPairs } from "../transport/types.ts";
import type { Backend } from "../pool.ts";
import { ConsistentHash } from "./consistent_hash.ts";
import { LeastConnections } from "./least_connections.ts";
import { P2cEwma } from "./p2c_ewma.ts";
import { WeightedRandom } from "./random.ts";
import { RoundRobin } from "./round_robin.ts";
import { StickyCookie } from "./sticky_cookie.ts";

/** Names accepted by `--strategy`. */
export const STRATEGY_NAMES = [
  "round-robin",
  "least-connections",
  "p2c-ewma",
  "random",
  "consistent-hash",
  "sticky-cookie",
] as const;
/** A strategy name. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What a strategy may know about the request it is picking for. */
export interface PickContext {
  /** Backends already tried for this request (retries go elsewhere). */
  readonly exclude?: ReadonlySet<Backend>;
  /** Monotonic milliseconds (for EWMA decay). */
  readonly now: number;
  /** The request's key for `consistent-hash` (from `--hash-key`); undefined when the request has none. */
  readonly hashKey?: string;
  /** The request's `Cookie` header, for `sticky-cookie`. */
  readonly cookie?: string | null;
}

/** Picks a backend from a snapshot; `undefined` when none is eligible. */
export interface Strategy {
  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined;
  /**
   * Headers to add to the client's response after `backend` answered, e.g.
   * the `Set-Cookie` of `sticky-cookie`. Undefined when there are none.
   */
  responseHeaders?(backend: Backend, ctx: PickContext): HeaderPairs | undefined;
}

/** Settings and injected sources shared by the strategies. */
export interface StrategyOptions {
  /** Uniform in [0, 1); `Math.random` in production, seeded in tests. */
  readonly random: () => number;
  /** `sticky-cookie`: cookie name and HMAC secret. */
  readonly stickyCookieName: string;
  readonly stickySecret: string;
}

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
      return new ConsistentHash(options.random);
    case "sticky-cookie":
      return new StickyCookie(options.stickyCookieName, options.stickySecret);
  }
}
