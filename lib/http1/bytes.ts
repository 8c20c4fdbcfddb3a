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

/**
 * Encodes a head string 1:1 (latin1) at the start of `scratch` when it fits
 * with `extra` bytes to spare, else of a fresh array; returns that array
 * (the head is its first `text.length` bytes). A typed array over 64 bytes
 * is an allocation outside V8's heap that costs more than encoding the head,
 * so reusing a pooled buffer (`head_writes.ts`) is the point. Header bytes are octets:
 * every character is one already (from the parsers, or ASCII), and an
 * obs-text one (0x80-0xFF) must go out as that byte, not as UTF-8; a
 * character above 0xFF can't be sent and throws.
 */
export function encodeLatin1(text: string, scratch: Uint8Array, extra = 0): Uint8Array {
  const n = text.length;
  const out = n + extra <= scratch.length ? scratch : new Uint8Array(n + extra);
  // Native encoding is twice as fast as a JS loop; it only differs from
  // latin1 when a character is not ASCII, which then takes more than a byte.
  const { read, written } = ENCODER.encodeInto(text, out);
  if (read === n && written === n) return out;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new TypeError("head character outside latin1");
    out[i] = c;
  }
  return out;
}
const ENCODER = new TextEncoder();
