/**
 * The retry rule, as a pure function: a request is re-sent only when doing so
 * cannot repeat a side effect.
 *
 * @module
 */

import type { UpstreamError } from "../transport/types.ts";

/** Methods whose repetition is harmless and that carry no body in practice (RFC 9110 §9.2.2). */
const RETRYABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** What the rule needs to know about a request. */
export interface RetryFacts {
  readonly method: string;
  /** Whether the request carries a body (it is streamed once and can't be replayed). */
  readonly hasBody: boolean;
}

/**
 * Whether a failed attempt may be tried on another backend.
 * - Never reached a backend (connect refused, timed out): any method; the
 *   body has not been read yet because transports read it only once connected.
 * - May have reached one: only bodiless GET/HEAD/OPTIONS, so a POST is never
 *   sent twice.
 * - Response timeout: never. The backend may still be working on it, and a
 *   retry would double both the client's wait and the load on a slow backend.
 */
export function mayRetry(err: UpstreamError, facts: RetryFacts): boolean {
  if (!err.mayHaveReached) return true;
  if (err.kind === "response_timeout") return false;
  return RETRYABLE_METHODS.has(facts.method) && !facts.hasBody;
}
