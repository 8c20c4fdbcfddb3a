/**
 * Finding where a request head ends in the bytes read so far (RFC 9112
 * §2.2), for the h1 front's read loop. It runs on every read of a head, so
 * it is a byte scan with no decoding, and it finds every framing error at the
 * byte that causes it: a client can't make us wait for an end that will
 * never come, and the verdict doesn't depend on how the bytes were split
 * into reads. Parsing the head once it is whole is `request_head.ts`.
 *
 * @module
 */

import {
  MAX_REQUEST_FIELDS,
  MAX_REQUEST_HEAD_BYTES,
  MAX_TARGET_BYTES,
  RequestError,
} from "./request_limits.ts";

const NUL = 0;
const LF = 10;
const CR = 13;
const SP = 32;

/**
 * The index just past the head's terminating empty line within
 * `buf[start, end)`, or -1 when more bytes are needed. Leading empty lines
 * (CRLF) before the request line are allowed (RFC 9112 §2.2) and are part of
 * the head.
 *
 * Every error is found at the byte that causes it, so the verdict is the same
 * however the bytes arrived: 431 once more than MAX_REQUEST_HEAD_BYTES have
 * come without a terminator, 400 at once on a bare CR or LF or a NUL (so a
 * client can't make us wait for an end that will never come), and 414 as soon
 * as the request line's target alone exceeds MAX_TARGET_BYTES.
 *
 * Stateless, so each call scans from `start` again (about 1 ns a byte). A
 * caller reading from a socket should call it again only when a read brought
 * an LF (a head can end only there) or the limit was passed: a head dripped a
 * byte at a time then costs one scan per line, and lines are capped at
 * MAX_REQUEST_FIELDS + 1.
 */
export function findRequestHeadEnd(buf: Uint8Array, start: number, end: number): number {
  // Bytes past the limit are never looked at: whatever they are, 431 comes first.
  const limit = Math.min(end, start + MAX_REQUEST_HEAD_BYTES);
  let i = start;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
  // request line (some clients send a CRLF after a POST body).
  while (i + 1 < limit && buf[i] === CR && buf[i + 1] === LF) i += 2;
  i = requestLineEnd(buf, i, limit);
  if (i !== -1) i = fieldsEnd(buf, i, limit);
  if (i !== -1) return i;
  if (end - start > MAX_REQUEST_HEAD_BYTES) {
    throw new RequestError(431, `request head over ${MAX_REQUEST_HEAD_BYTES} bytes`);
  }
  return -1;
}

/** Index past the request line's CRLF in `buf[i, limit)`, or -1 when it hasn't all arrived. */
function requestLineEnd(buf: Uint8Array, i: number, limit: number): number {
  // Where the target starts once the first SP is seen; -2 after the second.
  let target = -1;
  for (; i < limit; i++) {
    const b = buf[i];
    if (b === SP) {
      target = target === -1 ? i + 1 : -2;
      continue;
    }
    if (b <= CR) {
      const eol = lineBreak(buf, i, limit);
      if (eol === 2) return i + 2;
      if (eol === 1) return -1;
    }
    if (target >= 0 && i - target >= MAX_TARGET_BYTES) {
      throw new RequestError(414, `request-target over ${MAX_TARGET_BYTES} bytes`);
    }
  }
  return -1;
}

/** Index past the empty line ending the field lines that start at `i`, or -1. */
function fieldsEnd(buf: Uint8Array, i: number, limit: number): number {
  let lineStart = i;
  let lines = 0;
  for (; i < limit; i++) {
    // Field bytes above CR are all either valid or rejected later by parseFieldAt.
    if (buf[i] > CR) continue;
    const eol = lineBreak(buf, i, limit);
    if (eol === 1) return -1;
    if (eol === 2) {
      if (i === lineStart) return i + 2;
      // Counted here too, so a head dripped line by line is rescanned at most this often.
      if (++lines > MAX_REQUEST_FIELDS) {
        throw new RequestError(431, `more than ${MAX_REQUEST_FIELDS} field lines`);
      }
      lineStart = ++i + 1;
    }
  }
  return -1;
}

/**
 * Classifies the control byte at `buf[i]`: 2 for a CRLF, 1 for a CR that is
 * the last byte available, 0 for anything parsing will judge (HTAB, other
 * CTLs). Throws on a bare LF, a bare CR (RFC 9112 §2.2: MUST NOT be treated
 * as a line break by a recipient that might disagree with another) or a NUL.
 */
function lineBreak(buf: Uint8Array, i: number, limit: number): 0 | 1 | 2 {
  const b = buf[i];
  if (b === CR) {
    if (i + 1 === limit) return 1;
    if (buf[i + 1] === LF) return 2;
    throw new RequestError(400, "bare CR in request head");
  }
  if (b === LF) throw new RequestError(400, "bare LF in request head");
  if (b === NUL) throw new RequestError(400, "NUL in request head");
  return 0;
}
