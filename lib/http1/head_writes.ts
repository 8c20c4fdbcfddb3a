/**
 * Writing a head, with a small body when there is one, in one write: reply
 * heads on the h1 front and request heads on the h1 transport. Both are
 * encoded into a buffer of {@link HEAD_BUFFER} bytes from one per-thread
 * pool, taken for one write and given back once that write has gone out; a
 * larger head and body get a buffer of their own. No connection holds a
 * head buffer between writes: when each kept its own, 1,000 idle client
 * connections held 2 MiB of reply buffers and every upstream connection 4
 * KiB for request heads.
 *
 * @module
 */

import { encodeLatin1 } from "./bytes.ts";

/** Where the bytes go: a client's reply sink or an upstream connection. */
export interface ByteSink {
  write(data: Uint8Array): Promise<void>;
}

/** Size of a pooled head buffer. */
export const HEAD_BUFFER = 2 * 1024;
/** Most free head buffers kept per thread: 128 KiB. */
const MAX_FREE = 64;
const free: ArrayBuffer[] = [];

/** Stands for "no pooled buffer": {@link encodeLatin1} then makes one of the size needed. */
const NONE = new Uint8Array(0);

/**
 * Encodes `head` (latin1) followed by `body`, into a pooled buffer when
 * they fit; pass the result to {@link sendHead}. Throws, before anything
 * is written, for a head character above 0xFF (a buffer it took is then
 * left to the collector).
 */
export function encodeHead(head: string, body?: Uint8Array): Uint8Array {
  const size = head.length + (body?.length ?? 0);
  const pooled = size <= HEAD_BUFFER
    ? new Uint8Array(free.pop() ?? new ArrayBuffer(HEAD_BUFFER))
    : NONE;
  const out = encodeLatin1(head, pooled, size - head.length);
  if (body) out.set(body, head.length);
  return out.subarray(0, size);
}

/**
 * Writes what {@link encodeHead} made in one write. Its buffer goes back to
 * the pool only after a write that succeeded: one that failed is left to
 * the collector, so no buffer a socket might still read from is handed out
 * again. Rejects as `sink.write` does.
 */
export async function sendHead(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  await sink.write(bytes);
  giveBack(bytes);
}

/**
 * {@link encodeHead} then {@link sendHead}, for a reply head, where both fail
 * alike; in one async frame, not two, as every reply takes this path.
 */
export async function writeHead(sink: ByteSink, head: string, body?: Uint8Array): Promise<void> {
  const bytes = encodeHead(head, body);
  await sink.write(bytes);
  giveBack(bytes);
}

/** Pools the buffer of written head bytes, if it is a pooled one. */
function giveBack(bytes: Uint8Array): void {
  // Only pooled buffers are HEAD_BUFFER long: a larger head gets an array of its exact size.
  const buffer = bytes.buffer;
  if (buffer.byteLength === HEAD_BUFFER && free.length < MAX_FREE) free.push(buffer as ArrayBuffer);
}
