/**
 * The three codings, through `node:zlib` (gzip, brotli and zstd are all
 * there in Deno 2.9.6): a whole body at once, or a stream compressed chunk
 * by chunk. Each chunk is compressed and flushed before the next is read
 * (zlib's sync flush, brotli's and zstd's flush operations), so bytes never
 * wait inside the compressor for more input: a slow stream reaches the
 * client as the backend sends it, at the cost of a few bytes per chunk
 * (measured: 3-5% more output for brotli at 64 KiB chunks, under 1% for
 * gzip and zstd).
 *
 * One engine for all three rather than the web `CompressionStream` for
 * gzip: it takes a level (`CompressionStream` is fixed at zlib's 6), it
 * says when a chunk has been consumed (so the chunk's buffer can be
 * recycled, `http1/body_buffers.ts`), and it measured as fast (45 vs 44
 * MiB/s on minified JavaScript at level 6). Deno's `node:zlib` works on the
 * calling thread, like `CompressionStream`: a chunk (at most 64 KiB) is
 * compressed in one go, between the event loop's other work.
 *
 * @module
 */

import zlib from "node:zlib";
import type { ContentCoding } from "../config/policies/types.ts";

/** Each coding's level, as configured. */
export type CodingLevels = { readonly [C in ContentCoding]: number };

const C = zlib.constants;

/**
 * Brotli's parameters: the quality, and for a body in hand its length, by
 * which brotli sizes its tables (a small body then costs less to start).
 * Streams get no hint even when their length is known: for large bodies
 * the hint makes brotli search harder (measured: 3% smaller for a quarter
 * less speed at quality 4), and the level is what should set that cost.
 */
function brotliParams(quality: number, sizeHint?: number): Record<number, number> {
  const params: Record<number, number> = { [C.BROTLI_PARAM_QUALITY]: quality };
  if (sizeHint !== undefined) params[C.BROTLI_PARAM_SIZE_HINT] = sizeHint;
  return params;
}

/** `body` compressed whole with `coding`, synchronously (for bodies in hand, at most 64 KiB). */
export function compressWhole(
  coding: ContentCoding,
  body: Uint8Array,
  levels: CodingLevels,
): Uint8Array {
  switch (coding) {
    case "gzip":
      return zlib.gzipSync(body, { level: levels.gzip });
    case "br":
      return zlib.brotliCompressSync(body, { params: brotliParams(levels.br, body.length) });
    case "zstd":
      return zlib.zstdCompressSync(body, {
        params: { [C.ZSTD_c_compressionLevel]: levels.zstd },
      });
  }
}

/** A streaming compressor that flushes after every chunk. */
export interface ChunkCompressor {
  /**
   * Compresses `chunk` (not empty) and flushes: resolves with everything
   * the compressor has to say about the input so far, once `chunk` is
   * consumed (its buffer may then be reused).
   */
  write(chunk: Uint8Array): Promise<Uint8Array[]>;
  /** Ends the stream: resolves with the last bytes (the trailer). */
  end(): Promise<Uint8Array[]>;
  /** Frees the compressor early (the client left, the body failed). */
  destroy(): void;
}

/** The `node:zlib` stream for `coding`, and its flush operation. */
function engine(
  coding: ContentCoding,
  levels: CodingLevels,
): [zlib.Gzip | zlib.BrotliCompress | zlib.ZstdCompress, number] {
  switch (coding) {
    case "gzip":
      return [zlib.createGzip({ level: levels.gzip }), C.Z_SYNC_FLUSH];
    case "br":
      return [
        zlib.createBrotliCompress({ params: brotliParams(levels.br) }),
        C.BROTLI_OPERATION_FLUSH,
      ];
    case "zstd":
      return [
        zlib.createZstdCompress({ params: { [C.ZSTD_c_compressionLevel]: levels.zstd } }),
        C.ZSTD_e_flush,
      ];
  }
}

/** A {@link ChunkCompressor} for `coding` at its configured level. */
export function chunkCompressor(coding: ContentCoding, levels: CodingLevels): ChunkCompressor {
  const [z, flushKind] = engine(coding, levels);
  return new ZlibChunks(z, flushKind);
}

interface Waiter {
  resolve(out: Uint8Array[]): void;
  reject(err: unknown): void;
}

/** A `node:zlib` transform driven one flushed chunk at a time. */
class ZlibChunks implements ChunkCompressor {
  readonly #z: zlib.Gzip | zlib.BrotliCompress | zlib.ZstdCompress;
  readonly #flushKind: number;
  #out: Uint8Array[] = [];
  #error: unknown;
  #waiter: Waiter | undefined;

  constructor(z: zlib.Gzip | zlib.BrotliCompress | zlib.ZstdCompress, flushKind: number) {
    this.#z = z;
    this.#flushKind = flushKind;
    // Flowing mode: output arrives before the flush (or end) that produced it completes.
    z.on("data", (chunk: Uint8Array) => this.#out.push(chunk));
    z.on("error", (err: unknown) => {
      this.#error ??= err;
      this.#settle()?.reject(err);
    });
  }

  write(chunk: Uint8Array): Promise<Uint8Array[]> {
    return this.#wait((done) => {
      this.#z.write(chunk);
      this.#z.flush(this.#flushKind, done);
    });
  }

  end(): Promise<Uint8Array[]> {
    return this.#wait((done) => {
      this.#z.once("end", done);
      this.#z.end();
    });
  }

  destroy(): void {
    this.#error ??= new Error("compressor destroyed");
    this.#settle()?.reject(this.#error);
    this.#z.destroy();
  }

  /** Runs `start`, resolving with the output once it calls `done`; one operation at a time. */
  #wait(start: (done: () => void) => void): Promise<Uint8Array[]> {
    // Failed or destroyed: a stream that won't answer again must not be waited on.
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      start(() => {
        const waiter = this.#settle();
        if (waiter === undefined) return;
        const out = this.#out;
        this.#out = [];
        waiter.resolve(out);
      });
    });
  }

  #settle(): Waiter | undefined {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    return waiter;
  }
}
