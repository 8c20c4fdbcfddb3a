/**
 * Power of two random choices over peak-EWMA latency, as Finagle and linkerd
 * balance: draw two distinct backends at random and send the request to the
 * one with the lower `latency × (inFlight + 1) / effectiveWeight`. Comparing
 * two instead of scanning all avoids the herd that least-loaded policies
 * cause when every balancer sees the same minimum, while still steering
 * around a slow backend within a few requests. The trade-off: the choice is
 * random, so the spread is close to even but never exact.
 *
 * @module
 */

import type { Backend } from "../pool/pool.ts";
import { eligible } from "./eligible.ts";
import type { PickContext, Strategy } from "./types.ts";

/**
 * Two distinct indices in `0..n-1` (`n >= 2`), every unordered pair equally
 * likely. The second is drawn from the `n - 1` others and shifted past the
 * first, as linkerd does; redrawing on a collision would work too but takes
 * unbounded time, and `(i + 1) % n` would favour neighbours.
 */
export function drawTwo(n: number, random: () => number): [number, number] {
  const i = Math.floor(random() * n);
  const j = Math.floor(random() * (n - 1));
  return [i, j >= i ? j + 1 : j];
}

/** Three decimals: enough to compare scores, short in a header. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Picks the less loaded, faster of two random backends. */
export class P2cEwma implements Strategy {
  readonly #random: () => number;

  /** `random`: uniform in [0, 1), for drawing the two candidates. */
  constructor(random: () => number) {
    this.#random = random;
  }

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const { backends, weights } = eligible(snapshot, ctx.exclude);
    if (backends.length < 2) {
      if (ctx.trace && backends.length === 1) {
        ctx.trace.note({ drawn: "the only eligible backend" });
      }
      return backends[0];
    }
    const [i, j] = drawTwo(backends.length, this.#random);
    let li = backends[i].ewma.value(ctx.now);
    let lj = backends[j].ewma.value(ctx.now);
    // A backend without latency history (0) is taken to be as fast as its
    // rival: scoring it 0 would send it every request until its first answer.
    // With no history on either side, load and weight alone decide.
    if (li === 0) li = lj || 1;
    if (lj === 0) lj = li;
    const si = li * (backends[i].inFlight + 1) / weights[i];
    const sj = lj * (backends[j].inFlight + 1) / weights[j];
    // On a tie the first draw wins; it is uniform, so ties stay unbiased.
    const chosen = sj < si ? backends[j] : backends[i];
    if (ctx.trace) {
      ctx.trace.note({ drawn: [i, j], of: backends.length });
      for (const [k, latency, score] of [[i, li, si], [j, lj, sj]]) {
        const b = backends[k];
        ctx.trace.candidate(b.id, {
          ewmaMs: round(b.ewma.value(ctx.now)),
          scoredMs: round(latency),
          inFlight: b.inFlight,
          weight: weights[k],
          score: round(score),
          won: b === chosen,
        });
      }
    }
    return chosen;
  }
}
