/**
 * The runtime shape of an edge policy. A route's policies run in one fixed
 * order (`chain.ts`) around the proxy's own work: `request` after routing
 * and before anything goes upstream (it may answer instead), `attempt`
 * around each upstream try, `response` on every reply the client gets for
 * the route (the backend's, an error's, or a policy's own answer), and
 * `done` once the reply was delivered or abandoned. Each phase is optional;
 * a phase no policy has costs nothing.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import type { Explain } from "../core/explain.ts";
import type { Logger } from "../core/logging.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";

/** One request's passage through its route's policies: what they read and leave for each other. */
export interface PolicyExchange {
  /** The client's request as received. */
  readonly request: ProxyRequest;
  /** The route's and pool's names. */
  readonly route: string;
  readonly pool: string;
  /**
   * The upstream request's fields (hop-by-hop removed, forwarding fields
   * set); request policies edit them in place.
   */
  readonly upstreamHeaders: HeaderPairs;
  /** Whether the client's peer is in `--trust-proxy`. */
  readonly trustedPeer: boolean;
  /** The client's address: the peer's, or behind trusted proxies the forwarded one (`core/client_ip.ts`). */
  readonly clientIp: string;
  /** Set by the request-id policy. */
  requestId?: string;
  /** Set by an auth policy that knows who it let through. */
  user?: string;
  /** The origin of the backend that answered, once one did. */
  backend?: string;
  /** Per-request state a policy keeps for its later phases, by policy. */
  readonly state: Map<Policy, unknown>;
  /**
   * Set only when the request asked for `X-LB-Explain`: each policy says
   * here what it did (`x.explain?.policy("rate-limit", "allowed, 9 left")`).
   */
  readonly explain?: Explain;
}

/** What an `attempt` hook gets back when its try ended: the status, or the error. */
export type AttemptEnd = (status: number | undefined, error?: unknown) => void;

/** An edge policy; every phase is optional. */
export interface Policy {
  /** Its config key, for `/status` and logs (`rate-limit`). */
  readonly kind: string;
  /** Before the request goes upstream: a reply answers the client instead. */
  request?(x: PolicyExchange): ProxyReply | undefined | Promise<ProxyReply | undefined>;
  /** At the start of each upstream try; returns what to call when it ends. */
  attempt?(x: PolicyExchange, backend: BackendSpec): AttemptEnd;
  /** The reply about to go to the client; returns it, changed or not. */
  response?(reply: ProxyReply, x: PolicyExchange): ProxyReply;
  /** The reply was delivered (or abandoned) with `bytes` body bytes. */
  done?(x: PolicyExchange, status: number, bytes: number): void;
}

/** What policies are built with: one per thread, outliving configuration generations. */
export interface PolicyDeps {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** Wall-clock milliseconds (Retry-After dates, span timestamps). */
  readonly wallNow: () => number;
  /** Uniform in [0, 1) (sampling). */
  readonly random: () => number;
  /**
   * A resource shared by every generation and route that asks with the
   * same `key` (a Redis connection, an exporter): made once by `make`,
   * closed when the lb stops.
   */
  shared<T extends { close(): void | Promise<void> }>(key: string, make: () => T): T;
}
