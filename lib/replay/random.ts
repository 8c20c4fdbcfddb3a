/**
 * The seeded randomness a replay gives `random`, `p2c-ewma`,
 * `least-connections` and `consistent-hash`, so a replay with the same seed
 * makes the same picks.
 *
 * @module
 */

/** The seed used when `--seed` is not given. */
export const DEFAULT_SEED = 1;

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
