/**
 * Weighted random: each backend with probability proportional to its
 * effective weight. The trade-off: needs no state and no coordination between
 * balancers, but a short run of picks can be uneven, and it ignores load.
 *
 * @module
 */

import type { PickTrace } from "../core/explain.ts";
import type { Backend } from "../pool/pool.ts";
import { eligible } from "./eligible.ts";
import type { PickContext, Strategy } from "./types.ts";

/**
 * One backend of `snapshot` not in `exclude`, chosen with probability
 * proportional to its effective weight; undefined when none is eligible.
 */
export function pickWeighted(
  snapshot: readonly Backend[],
  exclude: ReadonlySet<Backend> | undefined,
  random: () => number,
  trace?: PickTrace,
): Backend | undefined {
  const { backends, weights, total } = eligible(snapshot, exclude);
  const draw = random() * total;
  if (trace) {
    trace.note({ draw: Math.round(draw * 1000) / 1000, total });
    for (let i = 0; i < backends.length; i++) {
      trace.candidate(backends[i].id, { weight: weights[i] });
    }
  }
  let r = draw;
  for (let i = 0; i < backends.length; i++) {
    r -= weights[i];
    if (r < 0) return backends[i];
  }
  // Rounding can leave `r` at a hair above 0 after the last weight.
  return backends.at(-1);
}

/** Picks a backend at random, weighted by effective weight. */
export class WeightedRandom implements Strategy {
  readonly #random: () => number;

  /** `random`: uniform in [0, 1). */
  constructor(random: () => number) {
    this.#random = random;
  }

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    return pickWeighted(snapshot, ctx.exclude, this.#random, ctx.trace);
  }
}
