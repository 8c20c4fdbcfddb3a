/**
 * Weighted traffic splitting between a route's pools, by NGINX's smooth
 * weighted round-robin: on each pick every entry earns its weight, the one
 * with the most credit is picked and pays the total back. Deterministic, so
 * a canary at weight 1 of 20 gets exactly one request in every 20, spread
 * out (`a a b a c a a` for 5:1:1, not a burst of five a's).
 *
 * What it guarantees: credits return to zero after `total` picks, so the
 * sequence repeats with period `total` and every window of `total`
 * consecutive picks gives each entry exactly its weight. At any point no
 * entry is ahead of its ideal share by a whole pick (the picked entry had
 * the most credit, at least `total / n`, so it never drops to `-total`). An
 * entry can fall behind by a little more than one pick when there are four
 * or more entries (weights 1, 1, 1, 11, 11: after 16 picks the last has 6,
 * its share is 7.04); splits that need a strict quota belong elsewhere.
 * Unlike random splitting, a small sample already shows the weights, so
 * tests and canary dashboards read cleanly.
 *
 * @module
 */

/** Picks entries in smooth weighted rotation; mutable, so each route owns one. */
export class SmoothSplit<T> {
  readonly #items: readonly T[];
  readonly #weights: readonly number[];
  /** Each entry's credit ("current weight" in NGINX). */
  readonly #current: number[];
  readonly #total: number;

  /**
   * Starts a rotation at the beginning of its period.
   *
   * @param entries `[item, weight]` pairs; weights should be positive
   * integers (the config checks). Entries with a weight <= 0 (or NaN) are
   * ignored rather than trusted, since a negative weight would make credit
   * grow without bound; throws a `RangeError` if none is left.
   */
  constructor(entries: readonly (readonly [T, number])[]) {
    const kept = entries.filter(([, w]) => w > 0);
    if (kept.length === 0) {
      throw new RangeError(
        `SmoothSplit needs at least one entry with a positive weight, got ${entries.length} entries`,
      );
    }
    this.#items = kept.map(([item]) => item);
    this.#weights = kept.map(([, w]) => w);
    this.#current = kept.map(() => 0);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
  }

  /** The sum of the kept weights: the period of the pick sequence. */
  get total(): number {
    return this.#total;
  }

  /** The next entry. */
  next(): T {
    const current = this.#current;
    const weights = this.#weights;
    let best = 0;
    for (let i = 0; i < current.length; i++) {
      current[i] += weights[i];
      // Strictly greater: ties go to the earlier entry, so equal weights are a plain rotation.
      if (current[i] > current[best]) best = i;
    }
    current[best] -= this.#total;
    return this.#items[best];
  }
}
