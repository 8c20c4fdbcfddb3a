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
const free: Uint8Array[] = [];

/** Stands for "no pooled buffer": {@link encodeLatin1} then makes one of the size needed. */
const NONE = new Uint8Array(0);

/**
 * Writes `head` (latin1) followed by `body` in one write, encoded into a
 * pooled buffer when they fit. The buffer goes back to the pool only after
 * a write that succeeded: one that failed is left to the collector, so no
 * buffer a socket might still read from is handed out again. Rejects as
 * `sink.write` does.
 */
export async function writeHead(sink: ByteSink, head: string, body?: Uint8Array): Promise<void> {
  const size = head.length + (body?.length ?? 0);
  const pooled = size <= HEAD_BUFFER ? free.pop() ?? new Uint8Array(HEAD_BUFFER) : NONE;
  const out = encodeLatin1(head, pooled, size - head.length);
  if (body) out.set(body, head.length);
  await sink.write(out.subarray(0, size));
  if (pooled !== NONE && free.length < MAX_FREE) free.push(pooled);
}
