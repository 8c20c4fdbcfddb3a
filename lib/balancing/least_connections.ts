/**
 * Least connections, weighted: the backend with the lowest
 * `(inFlight + 1) / effectiveWeight`. The `+ 1` (as in HAProxy's `leastconn`
 * and Envoy's weighted least-request) counts the request being placed, so
 * weights still matter when every backend is idle: `inFlight / weight` would
 * score all idle backends 0 and ignore weights at low load. Ties are broken
 * uniformly at random, so a burst of requests against an idle pool is spread
 * out rather than sent to the first backend. The trade-off: it adapts to slow
 * backends only through their queue length, never through their latency.
 *
 * @module
 */

import type { Backend } from "../pool/pool.ts";
import { eligible } from "./eligible.ts";
import type { PickContext, Strategy } from "./types.ts";

/** Picks the backend with the fewest in-flight requests per unit of weight. */
export class LeastConnections implements Strategy {
  readonly #random: () => number;

  /** `random`: uniform in [0, 1), used only to break ties. */
  constructor(random: () => number) {
    this.#random = random;
  }

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const { backends, weights } = eligible(snapshot, ctx.exclude);
    let chosen: Backend | undefined;
    let best = Infinity;
    let ties = 0;
    for (let i = 0; i < backends.length; i++) {
      const score = (backends[i].inFlight + 1) / weights[i];
      ctx.trace?.candidate(backends[i].id, {
        inFlight: backends[i].inFlight,
        weight: weights[i],
        score: Math.round(score * 1000) / 1000,
      });
      if (score < best) {
        [chosen, best, ties] = [backends[i], score, 1];
      } else if (score === best && this.#random() * ++ties < 1) {
        // Reservoir sampling: the k-th tie replaces the choice with chance 1/k,
        // which leaves each of the minima equally likely in one pass.
        chosen = backends[i];
      }
    }
    if (ctx.trace && ties > 1) ctx.trace.note({ tiedAt: best, ties });
    return chosen;
  }
}
