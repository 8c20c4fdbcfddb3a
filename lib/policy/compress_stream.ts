/**
 * A body compressed as it streams: a pull stream that reads one chunk of
 * the source only when the client's side asks for more, compresses and
 * flushes it (`compress_codecs.ts`), and hands the output on. Nothing is
 * read ahead, so memory is one chunk and the compressor's window however
 * large the body, and a client that reads slowly slows the backend's body
 * down, as without compression. The client leaving cancels the source (the
 * backend connection is let go) and frees the compressor; a failing source
 * fails this stream the same way.
 *
 * @module
 */

import { giveBackBodyBuffer } from "../http1/body_buffers.ts";
import type { ChunkCompressor } from "./compress_codecs.ts";
import { concat } from "../http1/bytes.ts";

/** Called once when the stream ended, failed or was cancelled: body bytes read and sent. */
export type CompressedEnd = (bytesIn: number, bytesOut: number) => void;

/** `source` compressed by `compressor`; `end` hears how many bytes went in and out. */
export function compressedBody(
  source: ReadableStream<Uint8Array>,
  compressor: ChunkCompressor,
  end: CompressedEnd,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytesIn = 0;
  let bytesOut = 0;
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    end(bytesIn, bytesOut);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const next = await reader.read();
          // Cancelled while waiting (the read then ends early): the compressor is gone.
          if (ended) return;
          const chunk = next.value;
          let out: Uint8Array[];
          if (next.done) out = await compressor.end();
          else if (chunk!.length === 0) continue;
          else {
            out = await compressor.write(chunk!);
            bytesIn += chunk!.length;
            // Consumed: the chunk's buffer can take the source's next read.
            giveBackBodyBuffer(chunk!);
          }
          const piece = joined(out);
          if (piece.length > 0) {
            bytesOut += piece.length;
            controller.enqueue(piece);
          }
          if (next.done) {
            controller.close();
            finish();
            return;
          }
          // A flush always says something; should it not, read on rather than hand out nothing.
          if (piece.length > 0) return;
        }
      } catch (err) {
        if (ended) return; // cancelled meanwhile: nobody reads the error
        compressor.destroy();
        reader.cancel(err).catch(() => {});
        finish();
        controller.error(err);
      }
    },
    cancel(reason) {
      compressor.destroy();
      finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** The compressor's pieces for one chunk as one (the front writes each chunk it gets). */
function joined(pieces: Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? pieces[0] : concat(pieces);
}

/** Bytes in hand as a stream of `size`-byte views, for bodies too large to compress in one go. */
export function sliced(body: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, offset + size));
      offset += size;
    },
  }, { highWaterMark: 0 });
}
