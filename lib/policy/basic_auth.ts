/**
 * Basic authentication (RFC 7617) against bcrypt hashes. A request without
 * strict Basic credentials, or with a wrong user or password, gets 401 and
 * the challenge. The right ones let it through with `x.user` set (for the
 * access log) and, with `strip`, without `Authorization` upstream.
 *
 * Cost: credentials verified within `cache-ttl` cost a SHA-256 and a map
 * lookup, synchronously. Anything else is a bcrypt run on the thread's
 * bcrypt worker (`auth_bcrypt.ts`), one at a time; when `max-pending`
 * checks already wait for it, the request gets 503 with `Retry-After`
 * rather than a place in an ever longer queue. Unknown users are checked
 * against a dummy hash of the same cost, so the answer's timing does not
 * tell which user names exist.
 *
 * @module
 */

import type { BasicAuthConfig } from "../config/policies/types.ts";
import type { ProxyReply } from "../core/message.ts";
import { VerifiedCache, verifiedKey } from "./auth_cache.ts";
import { BcryptVerifier } from "./auth_bcrypt.ts";
import { basicChallenge, basicCredentials } from "./auth_credentials.ts";
import { textReply } from "./replies.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "./types.ts";

/** The key of the thread's one bcrypt worker among the runtime's shared resources. */
const SHARED_KEY = "basic-auth:bcrypt";

/** A well-formed bcrypt hash of cost `cost` that no password matches (its digest is not bcrypt's output for any). */
export function dummyHash(cost: number): string {
  return `$2b$${String(cost).padStart(2, "0")}$${".".repeat(53)}`;
}

/** The basic-auth policy; `verifier` stands in for the thread's bcrypt worker in tests. */
export function createBasicAuth(
  config: BasicAuthConfig,
  deps: PolicyDeps,
  route: string,
  verifier?: BcryptVerifier,
): Policy {
  const denied = deps.metrics.policyDenied.labels(route, "basic-auth");
  const cache = new VerifiedCache(config.cacheSize, config.cacheTtlMs, deps.now);
  const bcrypt = verifier ??
    deps.shared(
      SHARED_KEY,
      () =>
        new BcryptVerifier((detail) =>
          deps.log.error("the bcrypt worker ended ({detail}); starting another", { detail })
        ),
    );
  const first = config.users.values().next().value;
  const dummy = dummyHash(first === undefined ? 10 : Number(first.slice(4, 6)));
  const challenge = basicChallenge(config.realm);
  const { users, strip, maxPending } = config;

  const refuse = (): ProxyReply => {
    denied.inc();
    return textReply(401, "unauthorized\n", [["www-authenticate", challenge]]);
  };
  const busy = (): ProxyReply => {
    denied.inc();
    return textReply(503, "authentication is busy; try again\n", [["retry-after", "1"]]);
  };
  const pass = (x: PolicyExchange, user: string): undefined => {
    x.user = user;
    x.explain?.policy("basic-auth", `passed as ${user}`);
    if (strip) {
      const up = x.upstreamHeaders;
      for (let i = up.length - 1; i >= 0; i--) if (up[i][0] === "authorization") up.splice(i, 1);
    }
    return undefined;
  };

  /**
   * Checks in flight, by credentials: when a cached entry expires under
   * load, every request carrying it would otherwise start its own bcrypt
   * run and most would find `max-pending` full. They share the one check.
   */
  const verifying = new Map<string, Promise<boolean | undefined>>();

  /** A bcrypt run; undefined when the worker died. */
  function verify(password: string, hash: string, key: string | undefined) {
    const run = bcrypt.verify(password, hash).catch(() => undefined);
    if (key !== undefined) {
      verifying.set(key, run);
      run.then(() => verifying.delete(key));
    }
    return run;
  }

  async function decide(
    x: PolicyExchange,
    user: string,
    run: Promise<boolean | undefined>,
    known: boolean,
    key: string | undefined,
  ): Promise<ProxyReply | undefined> {
    const ok = await run;
    // The worker died (logged by it): fail closed, as a temporary condition.
    if (ok === undefined) return busy();
    if (!ok || !known || key === undefined) return refuse();
    cache.add(key);
    return pass(x, user);
  }

  return {
    kind: "basic-auth",
    request(x) {
      const creds = basicCredentials(x.request.headers);
      if (creds === undefined) return refuse();
      const hash = users.get(creds.user);
      const key = hash === undefined ? undefined : verifiedKey(creds.text, hash);
      // The logged-in client's path: no bcrypt, no await.
      if (key !== undefined && cache.has(key)) return pass(x, creds.user);
      const running = key === undefined ? undefined : verifying.get(key);
      if (running) return decide(x, creds.user, running, true, key);
      if (bcrypt.pending >= maxPending) return busy();
      const run = verify(creds.password, hash ?? dummy, key);
      return decide(x, creds.user, run, hash !== undefined, key);
    },
  };
}
