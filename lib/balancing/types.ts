/**
 * The strategy interface and what a pick may know, in a leaf module of
 * their own so the strategies and their factory don't import each other.
 *
 * @module
 */

import type { BalancingConfig } from "../config/types.ts";
import type { PickTrace } from "../core/explain.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { Backend } from "../pool/pool.ts";

/** What of the request a strategy may read; each strategy takes what it needs itself. */
export interface PickRequest {
  /** Fields as received, lower-case names. */
  readonly headers: HeaderPairs;
  /** The client's address (after PROXY protocol, when used). */
  readonly clientIp: string;
  /** Origin-form target (path and query), before any route rewrite. */
  readonly path: string;
}

/** One pick: the request, the time, and the backends already tried. */
export interface PickContext {
  /** Backends already tried for this request (retries go elsewhere). */
  readonly exclude?: ReadonlySet<Backend>;
  /** Monotonic milliseconds (for EWMA decay). */
  readonly now: number;
  /** What of the client's request the strategy may read (hash keys, cookies). */
  readonly request: PickRequest;
  /**
   * Set only for a request that asked for `X-LB-Explain`: the strategy
   * reports what it weighed here. Every use is an optional call
   * (`ctx.trace?.x(...)`), so a pick
   * without one does no extra work.
   */
  readonly trace?: PickTrace;
}

/** Picks a backend from a snapshot; `undefined` when none is eligible. */
export interface Strategy {
  /**
   * Chooses one of `snapshot` (the pool's eligible backends: up, not ejected,
   * draining or in maintenance), skipping those in `ctx.exclude`; undefined
   * when none is left.
   */
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
  /** The pool's balancing settings (hash key, sticky cookie). */
  readonly balancing: BalancingConfig;
}
