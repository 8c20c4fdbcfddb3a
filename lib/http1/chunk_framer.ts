/**
 * Chunked framing (RFC 9112 §7.1) for bodies of unknown length: request
 * bodies the h1 transport streams upstream, and response bodies the h1
 * front streams to clients.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Frames body pieces as chunks in one reusable buffer, so each chunk goes
 * out in one write without allocating per chunk. The returned view is valid
 * until the next call: write it before framing the next piece.
 */
export class ChunkFramer {
  #buf = new Uint8Array(64 * 1024 + 32);

  frame(data: Uint8Array): Uint8Array {
    const sizeLine = data.length.toString(16) + "\r\n";
    const total = sizeLine.length + data.length + 2;
    if (total > this.#buf.length) this.#buf = new Uint8Array(total);
    const buf = this.#buf;
    encoder.encodeInto(sizeLine, buf);
    buf.set(data, sizeLine.length);
    buf[total - 2] = 13;
    buf[total - 1] = 10;
    return buf.subarray(0, total);
  }
}

/** The last chunk and an empty trailer section. */
export const LAST_CHUNK: Uint8Array = encoder.encode("0\r\n\r\n");
