/**
 * Byte-string mutations for property tests of the parsers: a random edit
 * (flip a bit, insert or replace a byte, delete one, truncate) at a
 * position given as a fraction of the length, so shrinking keeps it in range.
 *
 * @module
 */

import fc from "fast-check";

/** A position as a fraction of a length, in [0, 1). */
export const fractionArb: fc.Arbitrary<number> = fc.noBias(fc.integer({ min: 0, max: 999_999 }))
  .map((n) => n / 1e6);

/** One random edit of a byte string. */
export type Mutation =
  | { readonly op: "flip"; readonly at: number; readonly bit: number }
  | { readonly op: "insert" | "replace"; readonly at: number; readonly byte: number }
  | { readonly op: "delete" | "truncate"; readonly at: number };

/** Mutations whose inserted or replaced bytes favour `interesting` ones (delimiters, CTLs). */
export function mutationArb(interesting: readonly number[]): fc.Arbitrary<Mutation> {
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...interesting));
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("flip" as const),
        at: fractionArb,
        bit: fc.integer({ min: 0, max: 7 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constantFrom("insert" as const, "replace" as const),
        at: fractionArb,
        byte,
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), at: fractionArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fractionArb }) },
  );
}

/** `bytes` with `mutations` applied in order. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Array.from(bytes);
  for (const m of mutations) {
    const at = Math.min(Math.floor(m.at * b.length), Math.max(0, b.length - 1));
    switch (m.op) {
      case "flip":
        if (b.length) b[at] ^= 1 << m.bit;
        break;
      case "replace":
        if (b.length) b[at] = m.byte;
        break;
      case "insert":
        b.splice(at, 0, m.byte);
        break;
      case "delete":
        b.splice(at, 1);
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
    }
  }
  return Uint8Array.from(b);
}
