/**
 * Round-robin: each healthy backend in turn. The counter walks the snapshot
 * it is given, so a backend leaving the snapshot shifts the rotation by at
 * most one position instead of resetting it.
 *
 * @module
 */

import type { Backend } from "../pool.ts";
import type { PickContext, Strategy } from "./mod.ts";

/** Picks backends in rotation, skipping excluded ones. */
export class RoundRobin implements Strategy {
  #next = 0;

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const n = snapshot.length;
    if (n === 0) return undefined;
    const start = this.#next % n;
    for (let i = 0; i < n; i++) {
      const candidate = snapshot[(start + i) % n];
      if (ctx.exclude?.has(candidate)) continue;
      this.#next = (start + i + 1) % n;
      return candidate;
    }
    return undefined;
  }
}
