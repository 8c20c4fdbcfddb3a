/**
 * Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
 * Network Load Balancer", NSDI 2016, §3.4): each backend gets a permutation
 * of the table's slots from two hashes of its id, and the backends take turns
 * claiming their next preferred free slot until the table is full. A key is
 * looked up with one hash and one array read. Removing a backend moves little
 * more than its own keys, and shares stay within about 1% of the weights.
 *
 * @module
 */

/**
 * The lookup table's size: prime, so every skip is coprime with it and each
 * permutation visits every slot, and about 100 times a large pool, as the
 * paper advises for even shares.
 */
export const TABLE_SIZE = 65537;

/**
 * A 32-bit non-cryptographic hash of `s`'s UTF-16 code units: FNV-1a, then
 * MurmurHash3's finalizer, because FNV-1a alone mixes the last characters
 * poorly into the low bits that `% size` keeps. `seed` gives independent
 * hashes of the same string.
 */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const OFFSET_SEED = 0x9e3779b9;
const SKIP_SEED = 0x7f4a7c15;

/**
 * Builds a lookup table of `size` (a prime, at least `ids.length`) slots,
 * each holding an index into `ids`. `weights` (positive, one per id) sets
 * each backend's share: per round the heaviest backend claims one slot and
 * the others a proportional fraction of one, but everyone claims a slot in
 * the first round, so no backend is left without a slot.
 */
export function maglevTable(
  ids: readonly string[],
  weights: readonly number[],
  size = TABLE_SIZE,
): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const n = ids.length;
  if (n === 0) return table;
  const max = Math.max(...weights);
  const skip = ids.map((id) => hash32(id, SKIP_SEED) % (size - 1) + 1);
  const next = ids.map((id) => hash32(id, OFFSET_SEED) % size);
  const credit = weights.map((w) => 1 - w / max);
  for (let filled = 0; filled < size;) {
    for (let i = 0; i < n && filled < size; i++) {
      credit[i] += weights[i] / max;
      for (; credit[i] >= 1 && filled < size; credit[i]--) {
        let slot = next[i];
        while (table[slot] !== -1) slot = step(slot, skip[i], size);
        table[slot] = i;
        next[i] = step(slot, skip[i], size);
        filled++;
      }
    }
  }
  return table;
}

/** `(slot + skip) % size` for `slot, skip < size`, without a division: it is the hot loop. */
function step(slot: number, skip: number, size: number): number {
  const next = slot + skip;
  return next >= size ? next - size : next;
}
