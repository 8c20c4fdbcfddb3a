/**
 * Consistent hashing with a Maglev table: requests with the same key
 * (`--hash-key`: client address, path, a header or a cookie) go to the same
 * backend while it is in the snapshot, and a backend leaving or joining moves
 * only about its own share of keys. The trade-off: affinity (warm caches,
 * local state) at the cost of balance - a hot key overloads its backend, and
 * load is never considered. A request without a key is placed by weighted
 * random, since any backend is as good as another for it.
 *
 * @module
 */

import type { HashKey } from "../config/types.ts";
import type { Backend } from "../pool/pool.ts";
import { requestKey } from "./request_key.ts";
import { eligible } from "./eligible.ts";
import { hash32, maglevTable } from "./maglev.ts";
import type { PickContext, Strategy } from "./types.ts";
import { pickWeighted } from "./random.ts";

/** Picks a backend by the request's hash key. */
export class ConsistentHash implements Strategy {
  readonly #random: () => number;
  #snapshot: readonly Backend[] | undefined;
  /** Each snapshot member's effective weight when the table was built. */
  #weights: number[] = [];
  /** The backends the table's entries index. */
  #members: readonly Backend[] = [];
  #table: Int32Array = new Int32Array(0);

  readonly #key: HashKey;

  /** `key`: where the key comes from (`--hash-key`); `random`: uniform in [0, 1), for requests without one. */
  constructor(key: HashKey, random: () => number) {
    this.#key = key;
    this.#random = random;
  }

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const exclude = ctx.exclude;
    const hashKey = requestKey(this.#key, ctx.request);
    if (hashKey === undefined) {
      ctx.trace?.note({
        key: keySource(this.#key),
        keyPresent: false,
        fallback: "weighted random",
      });
      return pickWeighted(snapshot, exclude, this.#random, ctx.trace);
    }
    this.#rebuildIfChanged(snapshot);
    const members = this.#members;
    const table = this.#table;
    if (members.some((b) => !exclude?.has(b))) {
      // A retry walks on from the key's slot: deterministic, and Maglev's
      // interleaving spreads one backend's keys over the others. Bounded,
      // though every member owns a slot, so no pool can make it spin.
      const hash = hash32(hashKey);
      let slot = hash % table.length;
      for (let step = 0; step < table.length; step++, slot = (slot + 1) % table.length) {
        const b = members[table[slot]];
        if (!exclude?.has(b)) {
          // The key's source and hash, never the key: it may be a session cookie.
          ctx.trace?.note({ key: keySource(this.#key), hash, slot, steps: step });
          return b;
        }
      }
    }
    // Only weightless backends are left (or none): they own no slots.
    ctx.trace?.note({ key: keySource(this.#key), fallback: "weighted random (no slot left)" });
    return pickWeighted(snapshot, exclude, this.#random, ctx.trace);
  }

  /**
   * Builds the table when the snapshot is replaced, and also when an
   * effective weight changed: a backend back from an outage ramps up under
   * slow start without a new snapshot, and would otherwise keep a tenth of
   * its share until the next health change.
   */
  #rebuildIfChanged(snapshot: readonly Backend[]): void {
    if (
      snapshot === this.#snapshot &&
      snapshot.every((b, i) => b.effectiveWeight === this.#weights[i])
    ) {
      return;
    }
    const { backends, weights } = eligible(snapshot);
    this.#table = maglevTable(backends.map((b) => b.id), weights);
    this.#members = backends;
    this.#weights = snapshot.map((b) => b.effectiveWeight);
    this.#snapshot = snapshot;
  }
}

/** Where the key comes from, as `--hash-key` names it (`header x-user`, `client-ip`). */
export function keySource(key: HashKey): string {
  return key.kind === "header" || key.kind === "cookie" ? `${key.kind} ${key.name}` : key.kind;
}
