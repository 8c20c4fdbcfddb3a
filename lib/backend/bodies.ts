/**
 * The demo backend's generated response bodies: the `/data` byte pattern,
 * the `/stream` server-sent events, and the `/gzip` text.
 *
 * The streams are pull-based with no read-ahead, so a body of any size
 * costs at most one chunk of memory and a slow client slows the producer
 * rather than piling data up.
 *
 * @module
 */

import { sleep } from "./params.ts";

/** Size of each chunk `/data` streams. */
export const DATA_CHUNK_SIZE = 64 * 1024;

/** Printable ASCII `!`..`~`; 94 does not divide the chunk size, so a dropped or repeated chunk shows. */
const PATTERN_PERIOD = 94;
const PATTERN_BLOCK = Uint8Array.from(
  { length: DATA_CHUNK_SIZE + PATTERN_PERIOD },
  (_, i) => 33 + (i % PATTERN_PERIOD),
);

/** `size` bytes of {@link dataPattern}, streamed in {@link DATA_CHUNK_SIZE} chunks. */
export function dataStream(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    // pull, not start: a chunk is made only when the connection can take it,
    // so a slow client holds at most one chunk in memory.
    pull(controller) {
      const n = Math.min(DATA_CHUNK_SIZE, size - sent);
      if (n > 0) controller.enqueue(dataPattern(sent, n));
      sent += n;
      if (sent >= size) controller.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * The bytes `/data` sends from `offset` for `length` bytes: byte `i` of the
 * body is `33 + (i % 94)`. Exported so tests can check bodies byte-exact.
 */
export function dataPattern(offset: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const start = (offset + done) % PATTERN_PERIOD;
    const n = Math.min(length - done, DATA_CHUNK_SIZE);
    out.set(PATTERN_BLOCK.subarray(start, start + n), done);
    done += n;
  }
  return out;
}

/** Options for {@link eventStream}; every field is required. */
export interface EventStreamOptions {
  /** How many events to send before closing. */
  readonly count: number;
  /** Milliseconds between events; the first is sent at once. */
  readonly intervalMs: number;
  /** Reported in each event's `name`. */
  readonly name: string;
  /** Clock for each event's `time`, in epoch milliseconds. */
  readonly now: () => number;
  /** The request's signal: once it aborts, the stream ends quietly. */
  readonly signal: AbortSignal;
}

/**
 * Server-sent events `id: i` / `data: {"i", "name", "time"}`, for
 * `i` = 1..count, {@link EventStreamOptions.intervalMs} apart.
 */
export function eventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { count, intervalMs, name, now } = options;
  const encoder = new TextEncoder();
  const cancelled = new AbortController();
  const signal = AbortSignal.any([options.signal, cancelled.signal]);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0 && !(await sleep(intervalMs, signal))) {
        // Client gone: end quietly. Returning without enqueueing would make the
        // stream call pull again at once, forever.
        closeQuietly(controller);
        return;
      }
      if (sent < count) {
        sent++;
        const payload = JSON.stringify({ i: sent, name, time: now() });
        controller.enqueue(encoder.encode(`id: ${sent}\ndata: ${payload}\n\n`));
      }
      if (sent >= count) controller.close();
    },
    // Deno.serve cancels the body when the client disconnects; stop the timer.
    cancel() {
      cancelled.abort();
    },
  }, { highWaterMark: 0 });
}

function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // Already cancelled by the reader: nothing left to close.
  }
}

/** The text `/gzip` compresses: 64 numbered lines, about 3.5 KB. */
export const GZIP_TEXT: string = Array.from(
  { length: 64 },
  (_, i) => `line ${String(i + 1).padStart(2, "0")}: the quick brown fox jumps over the lazy dog\n`,
).join("");

let gzipped: Promise<Uint8Array> | undefined;

/**
 * {@link GZIP_TEXT} gzip-encoded. Compressed once, on first use; each call
 * returns a fresh copy.
 */
export async function gzipBody(): Promise<Uint8Array<ArrayBuffer>> {
  gzipped ??= new Response(
    new Blob([GZIP_TEXT]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  // A copy per response, so no response can ever share or detach the cached buffer.
  return (await gzipped).slice();
}
