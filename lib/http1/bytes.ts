/**
 * Byte-array helpers shared by the h1 front and transport.
 *
 * @module
 */

/** Joins byte arrays into one. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
