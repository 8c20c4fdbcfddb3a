/**
 * Recycled 64 KiB buffers for body chunks. A streamed body moves through
 * one fresh array per read; once written, each is garbage, but it is
 * external memory, which V8 collects only after some 64 MiB of it has
 * piled up: a 256 MiB download through the h1 front grew the process by
 * 80-90 MiB. A writer that is done with a chunk gives it back, and the next
 * read reuses it, so a stream holds a few buffers, not a heap of them.
 *
 * Only buffers taken here are ever given back (others are ignored), and a
 * buffer can be on the free list once: a chunk handed to someone who never
 * gives it back (`Deno.serve`, which takes its own copy) is simply
 * collected.
 *
 * @module
 */

/** Size of each buffer: the largest single read of a body. */
export const BODY_BUFFER = 64 * 1024;
/** Most buffers kept free: 4 MiB. */
const MAX_FREE = 64;

const free: ArrayBuffer[] = [];
const isFree = new WeakSet<ArrayBuffer>();
const ours = new WeakSet<ArrayBuffer>();

/** A buffer of {@link BODY_BUFFER} bytes, recycled when one is free. */
export function takeBodyBuffer(): Uint8Array<ArrayBuffer> {
  const reused = free.pop();
  if (reused) {
    isFree.delete(reused);
    return new Uint8Array(reused);
  }
  const buffer = new ArrayBuffer(BODY_BUFFER);
  ours.add(buffer);
  return new Uint8Array(buffer);
}

/**
 * Gives a chunk's buffer back for reuse. Call only when nothing will read
 * `chunk` (or any view of its buffer) again.
 */
export function giveBackBodyBuffer(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer) || !ours.has(buffer) || isFree.has(buffer)) return;
  if (free.length >= MAX_FREE) return;
  isFree.add(buffer);
  free.push(buffer);
}
