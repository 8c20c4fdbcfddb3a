/**
 * Trace and span ids: random hex from a pool of cryptographically random
 * bytes refilled 4 KiB at a time, so an id costs a few table lookups rather
 * than a `crypto.getRandomValues` call each. W3C Trace Context Level 2
 * (§3.2.2.3, §3.2.2.4) asks for random ids; an all-zero id is invalid, so
 * one is drawn again (a chance of 2^-64 for a span id).
 *
 * @module
 */

/** Makes ids; a test passes its own source of bytes. */
export interface TraceIds {
  /** 32 lower-case hex digits, not all zero. */
  traceId(): string;
  /** 16 lower-case hex digits, not all zero. */
  spanId(): string;
}

const BYTE_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Ids from `fill` (which fills a buffer with random bytes; `crypto.getRandomValues` by default). */
export function createTraceIds(
  fill: (buffer: Uint8Array) => void = (b) => crypto.getRandomValues(b),
  poolBytes = 4096,
): TraceIds {
  const pool = new Uint8Array(poolBytes);
  let at = poolBytes;
  function hex(bytes: number): string {
    for (;;) {
      if (at + bytes > pool.length) {
        fill(pool);
        at = 0;
      }
      let out = "";
      let any = 0;
      for (let i = 0; i < bytes; i++) {
        const b = pool[at++];
        any |= b;
        out += BYTE_HEX[b];
      }
      if (any !== 0) return out;
    }
  }
  return { traceId: () => hex(16), spanId: () => hex(8) };
}
