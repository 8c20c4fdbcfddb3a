/**
 * Smooth weighted round-robin, as NGINX does it: on each pick every eligible
 * backend earns its weight, the one with the most credit is picked, and it
 * pays the total back. Weights 5:1:1 give `a a b a c a a` rather than five
 * a's in a burst, and equal weights give a plain rotation. The trade-off:
 * perfectly even and predictable, but blind to load and latency.
 *
 * @module
 */

import type { Backend } from "../pool/pool.ts";
import { eligible } from "./eligible.ts";
import type { PickContext, Strategy } from "./types.ts";

/** Picks backends in smooth weighted rotation, skipping excluded ones. */
export class RoundRobin implements Strategy {
  /** Each backend's credit ("current weight" in NGINX): earned waiting, spent when picked. */
  readonly #current = new Map<Backend, number>();
  #snapshot: readonly Backend[] | undefined;
  /** The total weight the credits were last earned against. */
  #scale = 0;

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    if (snapshot !== this.#snapshot) this.#rebase(snapshot);
    const { backends, weights, total } = eligible(snapshot, ctx.exclude);
    // Excluded backends neither earn nor pay, so a retry doesn't cost them their turn.
    let best = -1;
    let bestCredit = -Infinity;
    for (let i = 0; i < backends.length; i++) {
      const credit = (this.#current.get(backends[i]) ?? 0) + weights[i];
      this.#current.set(backends[i], credit);
      ctx.trace?.candidate(backends[i].id, { credit, weight: weights[i] });
      // Strictly greater: ties go to the earlier backend, which makes equal weights a rotation.
      if (credit > bestCredit) [best, bestCredit] = [i, credit];
    }
    if (best === -1) return undefined;
    // Where in the rotation: the most credit wins and pays the total back.
    ctx.trace?.note({ rotation: "smooth weighted", credit: bestCredit, total });
    this.#current.set(backends[best], bestCredit - total);
    if (!ctx.exclude?.size) this.#scale = total;
    return backends[best];
  }

  /**
   * A new snapshot: forget backends that left it (the map would otherwise
   * grow with every backend ever seen), and rescale the others' credit to
   * the new total. Credit measures a place in a cycle as long as the total;
   * without rescaling, after a backend leaves, the ones just picked would
   * wait one pick too many and some backend would miss a whole round.
   * Rounding keeps integer weights' credit integral, so ties stay exact.
   */
  #rebase(snapshot: readonly Backend[]): void {
    const members = new Set(snapshot);
    const total = eligible(snapshot).total;
    const factor = this.#scale > 0 ? total / this.#scale : 1;
    for (const [b, credit] of this.#current) {
      if (members.has(b)) this.#current.set(b, Math.round(credit * factor));
      else this.#current.delete(b);
    }
    this.#snapshot = snapshot;
    this.#scale = total;
  }
}
