/**
 * The strategy interface and what a pick may know, in a leaf module of
 * their own so the strategies and their factory don't import each other.
 *
 * @module
 */

import type { HeaderPairs } from "../core/transport.ts";
import type { Backend } from "../pool/pool.ts";

/** What a strategy may know about the request it is picking for. */
export interface PickContext {
  /** Backends already tried for this request (retries go elsewhere). */
  readonly exclude?: ReadonlySet<Backend>;
  /** Monotonic milliseconds (for EWMA decay). */
  readonly now: number;
  /** The request's key for `consistent-hash` (from `--hash-key`); undefined when the request has none. */
  readonly hashKey?: string;
  /** The request's `Cookie` header, for `sticky-cookie`. */
  readonly cookie?: string | null;
}

/** Picks a backend from a snapshot; `undefined` when none is eligible. */
export interface Strategy {
  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined;
  /**
   * Headers to add to the client's response after `backend` answered, e.g.
   * the `Set-Cookie` of `sticky-cookie`. Undefined when there are none.
   */
  responseHeaders?(backend: Backend, ctx: PickContext): HeaderPairs | undefined;
}

/** Settings and injected sources shared by the strategies. */
export interface StrategyOptions {
  /** Uniform in [0, 1); `Math.random` in production, seeded in tests. */
  readonly random: () => number;
  /** `sticky-cookie`: cookie name and HMAC secret. */
  readonly stickyCookieName: string;
  readonly stickySecret: string;
}
