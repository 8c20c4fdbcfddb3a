/**
 * Rate limits: a token bucket per key (`rate_key.ts`), kept in this
 * thread (`rate_table.ts`, bounded, least recently used out first) or in
 * Redis when a store is configured (`rate_store.ts`), so every replica
 * takes from the same bucket. A request without a token gets `429` with
 * `Retry-After`; replies carry `RateLimit-Policy` and `RateLimit`
 * (draft-ietf-httpapi-ratelimit-headers-11) as `headers` says.
 *
 * When the store can't answer, `on-error: open` lets this thread's own
 * bucket decide (the limit then holds per lb process instead of across
 * them) and `closed` answers `503` with `Retry-After` until the store's
 * circuit lets a probe through.
 *
 * Local checks are synchronous and allocate nothing but the reply's field
 * value; a store check is one pipelined script call.
 *
 * @module
 */

import type { RateLimitConfig } from "../config/policies/types.ts";
import type { ProxyReply } from "../core/message.ts";
import {
  limitField,
  policyField,
  sfString,
  take,
  type Verdict,
  waitSeconds,
} from "./rate_bucket.ts";
import { keyReader } from "./rate_key.ts";
import { scriptCall } from "./rate_script.ts";
import { sharedStore } from "./rate_store.ts";
import { BucketTable } from "./rate_table.ts";
import { StoreFailure } from "./redis_pending.ts";
import { textReply } from "./replies.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "./types.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The thread's local buckets for a policy name: shared by the routes that
 * name it, and kept across reloads so a reload forgives no one.
 */
export function localTable(config: RateLimitConfig, deps: PolicyDeps): BucketTable {
  const table = deps.shared(
    `rate-limit:${config.name}`,
    () => new BucketTable(config.maxKeys, deps.metrics.rateLimitKeys.labels(config.name)),
  );
  table.resize(config.maxKeys);
  return table;
}

/** The rate-limit policy of route `route`. */
export function createRateLimit(config: RateLimitConfig, deps: PolicyDeps, route: string): Policy {
  // `closed` never asks the local buckets, so it keeps none (and shows no keys).
  const table = config.store?.onError === "closed" ? undefined : localTable(config, deps);
  const keyOf = keyReader(config.key, route);
  const denied = deps.metrics.policyDenied.labels(route, "rate-limit");
  const now = deps.now;
  const mode = config.headers;
  const quoted = sfString(config.name);
  const policyValue = policyField(config.name, config);
  // The local path's verdict: read before the next request can overwrite it.
  const scratch: Verdict = { allowed: true, remaining: 0, waitMs: 0 };
  const policy: Mutable<Policy> = { kind: "rate-limit" };

  const answer = (x: PolicyExchange, v: Verdict): ProxyReply | undefined => {
    if (mode === "always" || (mode === "denied" && !v.allowed)) {
      x.state.set(policy, limitField(quoted, v));
    }
    if (x.explain) {
      x.explain.policy(
        "rate-limit",
        v.allowed
          ? `${config.name}: allowed, ${v.remaining} left`
          : `${config.name}: limited, retry in ${waitSeconds(v.waitMs)}s`,
      );
    }
    if (v.allowed) return undefined;
    denied.inc();
    return textReply(429, "too many requests\n", [["retry-after", String(waitSeconds(v.waitMs))]]);
  };

  const local = (x: PolicyExchange, key: string): ProxyReply | undefined => {
    const at = now();
    return answer(x, take(table!.get(key, config, at), config, at, scratch));
  };

  const store = config.store;
  if (store === undefined) {
    policy.request = (x) => local(x, keyOf(x));
  } else {
    const shared = sharedStore(store, deps);
    const call = scriptCall(config);
    const prefix = `${store.prefix}${config.name}\n`;
    const fallback = store.onError === "open" ? local : (x: PolicyExchange): ProxyReply => {
      x.explain?.policy("rate-limit", `${config.name}: store unavailable, refused`);
      denied.inc();
      return textReply(503, "rate limit store unavailable\n", [
        ["retry-after", String(waitSeconds(shared.retryInMs()))],
      ]);
    };
    policy.request = (x) => {
      const key = keyOf(x);
      const asked = shared.check(call, prefix + key);
      if (asked === undefined) return fallback(x, key);
      return asked.then((v) => v instanceof StoreFailure ? fallback(x, key) : answer(x, v));
    };
  }

  if (mode !== "never") {
    policy.response = (reply, x) => {
      const value = x.state.get(policy) as string | undefined;
      if (value === undefined) return reply;
      return {
        ...reply,
        headers: [...reply.headers, ["ratelimit-policy", policyValue], ["ratelimit", value]],
      };
    };
  }
  return policy;
}
