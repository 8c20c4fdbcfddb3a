/**
 * A route's policies in their fixed order: the request ID and trace first
 * (so every answer, refusals included, carries them), address rules (the
 * cheapest refusal), rate limits, authentication, header rules (which may
 * use what the earlier ones found), and compression last, as it replaces
 * the body. Every phase runs in that order; a chain keeps, per phase, only the
 * policies that have it.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import { type Cidr, ipInRanges } from "../core/cidr.ts";
import { effectiveClientIp } from "../core/client_ip.ts";
import type { Explain } from "../core/explain.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { PolicySet } from "../config/policies/types.ts";
import { createBasicAuth } from "./basic_auth.ts";
import { createCompression } from "./compression.ts";
import { createForwardAuth } from "./forward_auth.ts";
import { createHeaderRules } from "./headers.ts";
import { createIpRules } from "./ip.ts";
import { createRateLimit } from "./rate_limit.ts";
import { createRequestId } from "./request_id.ts";
import { createTracing } from "./tracing.ts";
import type { AttemptEnd, Policy, PolicyDeps, PolicyExchange } from "./types.ts";

type Factory<K extends keyof PolicySet> = (
  config: NonNullable<PolicySet[K]>,
  deps: PolicyDeps,
  route: string,
) => Policy;

/** The policies with a runtime part, in the order they run. */
type Entry = { [K in keyof PolicySet]-?: readonly [K, Factory<K>] }[keyof PolicySet];
const ORDER: readonly Entry[] = [
  ["requestId", createRequestId],
  ["tracing", createTracing],
  ["ip", createIpRules],
  ["rateLimit", createRateLimit],
  ["basicAuth", createBasicAuth],
  ["forwardAuth", createForwardAuth],
  ["headers", createHeaderRules],
  ["compression", createCompression],
];

/** One route's policies, ready to run. */
export class PolicyChain {
  /** Every policy of the route, in order. */
  readonly policies: readonly Policy[];
  /** Statuses retried on another backend (`policies.retry`); undefined when none. */
  readonly retryOn: ReadonlySet<number> | undefined;
  /** Whether the route's requests go to the access log (`policies.access-log`). */
  readonly logged: boolean;
  readonly #requests: readonly Policy[];
  readonly #attempts: readonly Policy[];
  readonly #responses: readonly Policy[];
  readonly #dones: readonly Policy[];

  constructor(set: PolicySet, deps: PolicyDeps, route: string) {
    const policies: Policy[] = [];
    for (const [key, create] of ORDER) {
      const config = set[key];
      if (config !== undefined) {
        policies.push(
          (create as (c: unknown, d: PolicyDeps, r: string) => Policy)(config, deps, route),
        );
      }
    }
    this.policies = policies;
    this.retryOn = set.retry?.onStatus;
    this.logged = set.accessLog?.enabled ?? true;
    this.#requests = policies.filter((p) => p.request);
    this.#attempts = policies.filter((p) => p.attempt);
    this.#responses = policies.filter((p) => p.response);
    this.#dones = policies.filter((p) => p.done);
  }

  /** Whether the route has a policy with an `attempt` phase. */
  get observesAttempts(): boolean {
    return this.#attempts.length > 0;
  }

  /** A new request's exchange. */
  exchange(
    request: ProxyRequest,
    route: string,
    pool: string,
    upstreamHeaders: HeaderPairs,
    trusted: readonly Cidr[],
    explain?: Explain,
  ): PolicyExchange {
    const trustedPeer = trusted.length > 0 && ipInRanges(request.clientIp, trusted);
    const clientIp = trustedPeer
      ? effectiveClientIp(request.clientIp, request.headers, trusted)
      : request.clientIp;
    const state = new Map();
    const x = { request, route, pool, upstreamHeaders, trustedPeer, clientIp, state };
    // An explained request's exchange alone has the field, so the others keep one shape.
    return explain ? { ...x, explain } : x;
  }

  /**
   * Runs the request phase in order until a policy answers. Synchronous
   * while every policy is; a policy that awaits makes the rest follow it.
   */
  request(x: PolicyExchange): ProxyReply | undefined | Promise<ProxyReply | undefined> {
    const list = this.#requests;
    for (let i = 0; i < list.length; i++) {
      const out = list[i].request!(x);
      if (out instanceof Promise) return this.#requestFrom(x, out, i + 1);
      if (out !== undefined) return refusal(x, list[i], out);
    }
    return undefined;
  }

  async #requestFrom(
    x: PolicyExchange,
    pending: Promise<ProxyReply | undefined>,
    next: number,
  ): Promise<ProxyReply | undefined> {
    const first = await pending;
    const list = this.#requests;
    if (first !== undefined) return refusal(x, list[next - 1], first);
    for (let i = next; i < list.length; i++) {
      const out = await list[i].request!(x);
      if (out !== undefined) return refusal(x, list[i], out);
    }
    return undefined;
  }

  /** Starts an upstream try; the returned function ends it. */
  attempt(x: PolicyExchange, backend: BackendSpec): AttemptEnd {
    const ends = this.#attempts.map((p) => p.attempt!(x, backend));
    return (status, error) => {
      for (const end of ends) end(status, error);
    };
  }

  /** Runs the response phase in order. */
  response(reply: ProxyReply, x: PolicyExchange): ProxyReply {
    for (const p of this.#responses) reply = p.response!(reply, x);
    return reply;
  }

  /** The reply was delivered or abandoned. */
  done(x: PolicyExchange, status: number, bytes: number): void {
    for (const p of this.#dones) p.done!(x, status, bytes);
  }
}

/** A policy's own answer, noted as its refusal when the request is explained. */
function refusal(x: PolicyExchange, policy: Policy, reply: ProxyReply): ProxyReply {
  if (x.explain) x.explain.refusedBy = { policy: policy.kind, status: reply.status };
  return reply;
}

/** Chains for every route that has policies, by route name. */
export function buildChains(
  routes: readonly { readonly name: string; readonly policies?: PolicySet }[],
  deps: PolicyDeps,
): Map<string, PolicyChain> {
  const out = new Map<string, PolicyChain>();
  for (const r of routes) {
    if (r.policies) out.set(r.name, new PolicyChain(r.policies, deps, r.name));
  }
  return out;
}
