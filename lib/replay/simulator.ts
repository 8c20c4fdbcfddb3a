/**
 * Where each logged request would go under a new configuration, decided in
 * process with the lb's own pure parts: the compiled router (splits rotate
 * as they do live), the configured strategies over the new pools' backends
 * (every one up, none in flight), the IP rules, and the rate limits' token
 * buckets on the log's own clock. Nothing listens, connects or waits: a
 * simulator is plain state and has nothing to close.
 *
 * The steps follow the proxy core's order (`proxy/handler.ts`): no Host is
 * a 400; the route is matched and its pool chosen (so a split turns even
 * for a request a policy then refuses); then the policies in the chain's
 * order (`policy/chain.ts`): IP rules (403), rate limit (429), basic auth
 * and forward auth; then the pick. The log has no request headers or
 * cookies, so routes, hash keys and rate-limit keys that read them see them
 * absent; an auth policy whose answer depends on credentials gives a
 * `credentials` fate, except that a logged `user` passed before and is
 * taken to pass again (for basic auth, when the new config still has that
 * user).
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import type {
  BasicAuthConfig,
  ForwardAuthConfig,
  IpRulesConfig,
  RateKeyPart,
  RateLimitConfig,
} from "../config/policies/types.ts";
import type { HeaderPairs } from "../core/transport.ts";
import { createStrategy } from "../balancing/mod.ts";
import type { Strategy } from "../balancing/types.ts";
import { Backend } from "../pool/backend.ts";
import { compileRoutes, type Router } from "../routing/router.ts";
import { ipAllowed } from "../policy/ip.ts";
import { take, type Verdict } from "../policy/rate_bucket.ts";
import { type KeyReader, keyReader } from "../policy/rate_key.ts";
import { BucketTable } from "../policy/rate_table.ts";
import { seededRandom } from "./random.ts";
import type { Fate, RejectReason, ReplayRecord } from "./types.ts";

/** Decides one request's fate under the new configuration; call in log order. */
export type Simulate = (record: ReplayRecord) => Fate;

/** A route's policies as the simulation applies them. */
interface RoutePolicies {
  readonly ip?: IpRulesConfig;
  readonly rate?: {
    readonly config: RateLimitConfig;
    readonly table: BucketTable;
    readonly key: KeyReader;
  };
  readonly basicAuth?: BasicAuthConfig;
  readonly forwardAuth?: ForwardAuthConfig;
}

interface SimPool {
  readonly strategy: Strategy;
  readonly backends: readonly Backend[];
}

/** No request fields: the access log records none. */
const NO_HEADERS: HeaderPairs = [];

/**
 * A simulation of `config`. `seed` drives every random choice (one
 * generator per pool, so one pool's traffic doesn't change another's picks).
 */
export function createSimulator(config: LbConfig, seed: number): Simulate {
  const router: Router = compileRoutes(config.routes);
  const pools = new Map<string, SimPool>();
  config.pools.forEach((pool, i) => {
    pools.set(pool.name, {
      strategy: createStrategy(pool.strategy, {
        random: seededRandom(seed + i),
        balancing: pool.balancing,
      }),
      // Fresh runtime state: up, not ejected, nothing in flight, full weight.
      backends: pool.backends.map((spec) => new Backend(spec, 0, pool.balancing.ewmaDecayMs)),
    });
  });
  const tables = new Map<string, BucketTable>();
  const policies: RoutePolicies[] = config.routes.map(({ name, policies: set }) => {
    const rateLimit = set?.rateLimit;
    let rate: RoutePolicies["rate"];
    if (rateLimit !== undefined) {
      // Routes whose limits share a name share buckets, as live.
      let table = tables.get(rateLimit.name);
      if (table === undefined) {
        tables.set(rateLimit.name, table = new BucketTable(rateLimit.maxKeys));
      }
      rate = { config: rateLimit, table, key: keyReader(rateLimit.key, name) };
    }
    return {
      ip: set?.ip,
      rate,
      basicAuth: set?.basicAuth,
      forwardAuth: set?.forwardAuth,
    };
  });
  const verdict: Verdict = { allowed: true, remaining: 0, waitMs: 0 };

  return (r) => {
    // RFC 9112 §3.2: the core refuses a request without Host before routing.
    if (r.host === null) return rejected(400, "no-host", "none", "none");
    const route = router.match({
      method: r.method,
      host: r.host,
      path: r.path,
      headers: NO_HEADERS,
    });
    if (route === undefined) return rejected(config.noRouteStatus, "no-route", "none", "none");
    const pool = route.pool();
    const p = policies[route.index];
    if (p.ip !== undefined && !ipAllowed(p.ip, r.client)) {
      return rejected(403, "ip", route.name, pool);
    }
    if (p.rate !== undefined) {
      const { config: rule, table } = p.rate;
      const key = p.rate.key({ clientIp: r.client, request: { headers: NO_HEADERS } });
      if (!take(table.get(key, rule, r.at), rule, r.at, verdict).allowed) {
        return rejected(429, "rate-limit", route.name, pool);
      }
    }
    if (p.basicAuth !== undefined) {
      if (r.user === undefined) return credentials("basic-auth", route.name, pool);
      if (!p.basicAuth.users.has(r.user)) return rejected(401, "basic-auth", route.name, pool);
    }
    if (p.forwardAuth !== undefined && r.user === undefined) {
      return credentials("forward-auth", route.name, pool);
    }
    const up = pools.get(pool)!;
    const backend = up.strategy.pick(up.backends, {
      now: r.at,
      request: { headers: NO_HEADERS, clientIp: r.client, path: r.path },
    });
    if (backend === undefined) return rejected(503, "no-backend", route.name, pool);
    return { kind: "served", route: route.name, pool, backend: backend.id };
  };
}

/**
 * A rate limit's bucket key for a logged request, which has no header
 * fields: the live policy's own reader (`policy/rate_key.ts`), so an absent
 * field or cookie is the empty value and long keys are hashed as live.
 */
export function rateKey(parts: readonly RateKeyPart[], route: string, client: string): string {
  return keyReader(parts, route)({ clientIp: client, request: { headers: NO_HEADERS } });
}

function rejected(
  status: number,
  reason: Exclude<RejectReason, "logged">,
  route: string,
  pool: string,
): Fate {
  return { kind: "rejected", status, reason, route, pool };
}

function credentials(policy: "basic-auth" | "forward-auth", route: string, pool: string): Fate {
  return { kind: "credentials", policy, route, pool };
}
