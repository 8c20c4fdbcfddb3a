/**
 * One configuration generation: the proxy core built from a config and the
 * pools' runtime. A reload builds a new one and swaps it in whole, so a
 * request runs start to end on one set of routes, strategies and limits.
 *
 * @module
 */

import type { LbConfig, PoolConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import { createStrategy } from "../balancing/mod.ts";
import type { Strategy } from "../balancing/types.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import { compileRoutes } from "../routing/router.ts";
import { createProxy, type ProxyCore } from "../proxy/handler.ts";
import type { LbHooks } from "../proxy/hooks.ts";
import type { Mirror } from "../proxy/mirror.ts";
import type { AccessLogSink } from "../policy/access_log.ts";
import { buildChains } from "../policy/chain.ts";
import type { PolicyDeps } from "../policy/types.ts";
import { createUpstream, type Upstream } from "../proxy/upstream.ts";
import type { PoolSet } from "./pools.ts";

/** What a generation is built with besides the config. */
export interface GenerationDeps {
  readonly pools: PoolSet;
  readonly metrics: LbMetrics;
  readonly log: (...category: string[]) => Logger;
  readonly mirror: Mirror;
  /** What the routes' edge policies are built with (`policy/runtime.ts`). */
  readonly policies: PolicyDeps;
  /** The thread's access log, made once at start (its options need a restart); absent when off. */
  readonly accessLog?: AccessLogSink;
  readonly hooks?: LbHooks;
  /** Uniform in [0, 1), for the strategies. */
  readonly random: () => number;
  /** Monotonic milliseconds, for the core. */
  readonly now?: () => number;
  /** The listener's scheme, for forwarding headers. */
  readonly proto: "http" | "https";
}

/** The strategy for one pool: a hook's, or the configured one. */
function strategyFor(config: PoolConfig, deps: GenerationDeps): Strategy {
  const options = { random: deps.random, balancing: config.balancing };
  return deps.hooks?.strategy?.(config, options) ?? createStrategy(config.strategy, options);
}

/** Builds the proxy core for `config`; its pools must already be in `deps.pools`. */
export function buildCore(config: LbConfig, deps: GenerationDeps): ProxyCore {
  const upstreams = new Map<string, Upstream>();
  for (const pc of config.pools) {
    const runtime = deps.pools.get(pc.name)!;
    upstreams.set(
      pc.name,
      createUpstream(runtime.pool, pc, strategyFor(pc, deps), runtime.transport),
    );
  }
  return createProxy({
    upstreams,
    router: compileRoutes(config.routes),
    metrics: deps.metrics,
    log: deps.log("lb", "proxy"),
    accessLog: deps.accessLog,
    trustProxy: config.trustProxy,
    noRouteStatus: config.noRouteStatus,
    mirror: deps.mirror,
    policies: buildChains(config.routes, deps.policies),
    hooks: deps.hooks,
    now: deps.now,
    wallNow: deps.policies.wallNow,
    proto: deps.proto,
    explainToken: config.adminToken,
  });
}
