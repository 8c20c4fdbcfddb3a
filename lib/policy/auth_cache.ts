/**
 * Verified credentials, remembered for a while so a logged-in client costs
 * a hash and a map lookup instead of a bcrypt run (tens of milliseconds at
 * cost 10). Keys are SHA-256 digests of user, password and the stored hash:
 * no password is kept, a changed hash (or a user removed, whose hash is no
 * longer found) misses at once, and only successes are stored, so a flood
 * of wrong passwords can't push a real user's entry out. Bounded (least
 * recently used go first) and with a fixed lifetime from the verification,
 * on an injected clock.
 *
 * @module
 */

import { hash as digest } from "node:crypto";

/** The cache key of credentials `text` (`user:password`) checked against `hash`. */
export function verifiedKey(text: string, hash: string): string {
  // A NUL can't be in either part (RFC 7617 §2 bars controls), so the join is unambiguous.
  // The one-shot hash() is a quarter cheaper than createHash().update().digest() here.
  return digest("sha256", `${text}\0${hash}`, "hex");
}

/** Keys verified recently. */
export class VerifiedCache {
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** At most `max` keys, each for `ttlMs` after it was added (0: nothing is kept); `now` is monotonic ms. */
  constructor(max: number, ttlMs: number, now: () => number) {
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Whether `key` was verified less than the lifetime ago; a hit becomes the most recent. */
  has(key: string): boolean {
    const expires = this.#entries.get(key);
    if (expires === undefined) return false;
    this.#entries.delete(key);
    if (expires <= this.#now()) return false;
    this.#entries.set(key, expires); // to the back: most recently used
    return true;
  }

  /** Remembers `key` as verified now. */
  add(key: string): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, this.#now() + this.#ttlMs);
    if (this.#entries.size > this.#max) {
      // Map order is insertion order, and hits re-insert: the first is the least recent.
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Keys held now (expired ones included until looked up or pushed out). */
  get size(): number {
    return this.#entries.size;
  }
}
