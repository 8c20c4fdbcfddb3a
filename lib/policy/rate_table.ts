/**
 * A bounded table of token buckets, least recently used out first, so a
 * flood of distinct keys (spoofed headers, a botnet's addresses) costs at
 * most `maxKeys` buckets. A `Map` keeps insertion order; a hit moves its key
 * to the end, so the first key is always the one used longest ago, and the
 * one most likely to have refilled anyway: evicting it forgets the least.
 *
 * @module
 */

import type { GaugeChild } from "../metrics/registry.ts";
import { type Bucket, type BucketRule, fullBucket } from "./rate_bucket.ts";

/** Buckets by key, at most `maxKeys` of them. */
export class BucketTable {
  readonly #buckets = new Map<string, Bucket>();
  #maxKeys: number;
  readonly #gauge: GaugeChild | undefined;
  /** Keys evicted so far (tests and `/status` read it). */
  evicted = 0;

  /** `gauge`, when given, follows the number of keys. */
  constructor(maxKeys: number, gauge?: GaugeChild) {
    this.#maxKeys = maxKeys;
    this.#gauge = gauge;
  }

  /** Keys held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Changes the bound (a reload may); shrinking evicts the oldest keys at once. */
  resize(maxKeys: number): void {
    this.#maxKeys = maxKeys;
    this.#trim();
  }

  /** `key`'s bucket, now the most recently used; a new key gets a full one. */
  get(key: string, rule: BucketRule, now: number): Bucket {
    const buckets = this.#buckets;
    let bucket = buckets.get(key);
    if (bucket !== undefined) {
      buckets.delete(key);
      buckets.set(key, bucket);
      return bucket;
    }
    bucket = fullBucket(rule, now);
    buckets.set(key, bucket);
    this.#trim();
    return bucket;
  }

  /** Whether `key` is held (without touching its recency). */
  has(key: string): boolean {
    return this.#buckets.has(key);
  }

  #trim(): void {
    const buckets = this.#buckets;
    while (buckets.size > this.#maxKeys) {
      buckets.delete(buckets.keys().next().value!);
      this.evicted++;
    }
    this.#gauge?.set(buckets.size);
  }

  /** Drops every bucket (shutdown). */
  close(): void {
    this.#buckets.clear();
    this.#gauge?.set(0);
  }
}
