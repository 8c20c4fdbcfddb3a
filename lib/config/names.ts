/**
 * The names the configuration accepts for pluggable parts. They live here,
 * below the parts themselves, so reading a config (and `--help`, `--check`)
 * never loads the data plane; each part's factory switches over its union
 * exhaustively, so a name without an implementation fails `deno check`.
 *
 * @module
 */

/** Names accepted by `--strategy`; the first is the default. */
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

/** Names accepted by `--transport`; the first is the default. */
export const TRANSPORT_NAMES = ["h1", "node-http"] as const;
/** A transport name. */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Names accepted by `--front`; the first is the default. */
export const FRONT_NAMES = ["h1", "deno-serve"] as const;
/** A front name. */
export type FrontName = (typeof FRONT_NAMES)[number];
