/**
 * The retry rule, as a pure function: a request is re-sent only when doing so
 * cannot repeat a side effect.
 *
 * @module
 */

import type { UpstreamError } from "../core/transport.ts";

/** Methods whose repetition is harmless (RFC 9110 §9.2.2) and that we re-send. */
const RETRYABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** What the rule needs to know about a request. */
export interface RetryFacts {
  readonly method: string;
  /** Whether the request carries a body. */
  readonly hasBody: boolean;
  /** Whether that body was kept whole in the retry buffer and can be sent again. */
  readonly replayable?: boolean;
  /** Whether the client sent an `Idempotency-Key`: it declared a repeat safe. */
  readonly idempotencyKey?: boolean;
  /** Whether a per-try timeout shorter than the overall deadline is configured. */
  readonly perTryTimeout?: boolean;
}

/**
 * Whether a failed attempt may be tried on another backend.
 * - Never reached a backend (connect refused or timed out): any method, as
 *   long as the body is still there to send: transports read a streamed body
 *   only once connected, and a buffered one can be replayed.
 * - May have reached one: only GET/HEAD/OPTIONS, or a request carrying an
 *   `Idempotency-Key`, and only bodiless or with a replayable body. A POST
 *   without that key is never sent twice.
 * - Response timeout: only when it is a per-try timeout inside a longer
 *   deadline. Otherwise the deadline is spent, and the backend may still be
 *   working on it.
 */
export function mayRetry(err: UpstreamError, facts: RetryFacts): boolean {
  if (!err.mayHaveReached) return true;
  if (err.kind === "response_timeout" && !facts.perTryTimeout) return false;
  return mayResend(facts);
}

/**
 * Whether a request a backend may have acted on may go to another: only an
 * idempotent one (or one with an `Idempotency-Key`) whose body, if any,
 * can be sent again. Also the rule for retrying on an answer.
 */
export function mayResend(facts: RetryFacts): boolean {
  const idempotent = RETRYABLE_METHODS.has(facts.method) || facts.idempotencyKey === true;
  return idempotent && (!facts.hasBody || facts.replayable === true);
}
