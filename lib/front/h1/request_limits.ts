/**
 * What the h1 front's request head parser refuses, and the bounds it
 * enforces: {@link RequestError} (with the status the client gets) and the
 * size limits. A leaf module, so the scanner, the request-line parser and
 * the field rules all share one definition of each limit without importing
 * one another.
 *
 * @module
 */

/** A request the front must refuse; `status` is what the client gets before the connection closes. */
export class RequestError extends Error {
  /** `status`: 400 malformed, 414 target too long, 431 head too large, 501 transfer coding, 505 version. */
  constructor(readonly status: 400 | 414 | 431 | 501 | 505, message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Largest head accepted, leading empty lines and request line included; more is a 431. */
export const MAX_REQUEST_HEAD_BYTES = 64 * 1024;
/** Most field lines accepted in one head; more is a 431. */
export const MAX_REQUEST_FIELDS = 100;
/** Longest request-target accepted; longer is a 414 (RFC 9112 §3: at least 8000 octets). */
export const MAX_TARGET_BYTES = 8 * 1024;
