/**
 * Reading response bodies off a connection by their framing (RFC 9112 §6.3):
 * a known length, chunked, or until the connection closes.
 *
 * @module
 */

import { UpstreamError } from "../../core/transport.ts";
import { ChunkedDecoder } from "../../http1/chunked.ts";
import { type Connection, READ_BUFFER } from "../../http1/connection.ts";
import type { Framing } from "./head.ts";
import { concat } from "../../http1/bytes.ts";

/**
 * A chunked body is decoded in the connection's own buffer, which starts
 * at head size; it is grown to this once, so such bodies are read in 16 KiB
 * reads, not 1 KiB ones.
 */
const CHUNKED_READ = 16 * 1024;

/** Returns a function yielding the body's chunks in order, then null. */
export function bodyReader(c: Connection, framing: Framing): () => Promise<Uint8Array | null> {
  switch (framing.kind) {
    case "none":
      return () => Promise.resolve(null);
    case "length": {
      let remaining = framing.length;
      return async () => {
        if (remaining === 0) return null;
        const chunk = await c.readChunk(Math.min(remaining, READ_BUFFER));
        if (chunk === null) throw new UpstreamError("reset", "backend closed mid-body");
        remaining -= chunk.length;
        return chunk;
      };
    }
    case "close":
      return () => c.readChunk(READ_BUFFER);
    case "chunked": {
      const decoder = new ChunkedDecoder();
      return async () => {
        for (;;) {
          if (decoder.done) return null;
          if (c.buffered === 0) {
            c.reserve(CHUNKED_READ);
            if (!(await c.fill())) throw new UpstreamError("reset", "backend closed mid-body");
          }
          const parts: Uint8Array[] = [];
          const used = decoder.decode(c.buf, c.start, c.end, (d) => parts.push(d.slice()));
          c.start += used;
          if (parts.length === 1) return parts[0];
          if (parts.length > 1) return concat(parts);
        }
      };
    }
  }
}
