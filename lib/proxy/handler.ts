/**
 * The proxy core: validate, route, rewrite headers, pick a backend in the
 * route's pool, send through that pool's transport, retry when it is safe,
 * mirror when the route says so, and map failures to replies. It works on
 * the neutral {@link ProxyRequest} and {@link ProxyReply} of
 * `core/message.ts`, so every front runs the same rules. Each decision is a
 * pure function elsewhere (`headers.ts`, `retry.ts`, `errors.ts`, the
 * router); this file only sequences them.
 *
 * @module
 */

import type { Cidr } from "../core/cidr.ts";
import { type Explain, renderExplain } from "../core/explain.ts";
import type { Logger } from "../core/logging.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import {
  type HeaderPairs,
  headerValue,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../core/transport.ts";
import type { AccessLogSink } from "../policy/access_log.ts";
import type { PolicyExchange } from "../policy/types.ts";
import type { Backend } from "../pool/pool.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Router } from "../routing/router.ts";
import { type Answer, sendWithRetries, type StatusRetry } from "./attempts.ts";
import { BadRequestError, errorReply, NoRouteError, PolicyAnswer, statusFor } from "./errors.ts";
import { upstreamRequestHeaders } from "./headers.ts";
import { Accounting, type ProxyExchange, type Routed } from "./accounting.ts";
import {
  EXPLAIN_FIELD,
  explainedReply,
  explainMiss,
  explainRequested,
  explainRouted,
} from "./explain.ts";
import type { HookContext, LbHooks } from "./hooks.ts";

export type { ProxyExchange };
import type { Mirror } from "./mirror.ts";
import type { PolicyChain } from "../policy/chain.ts";
import {
  clientReply,
  discardResponse,
  failureReply,
  letBodyGo,
  replayableBody,
  responseReply,
} from "./reply.ts";
import type { Upstream } from "./upstream.ts";

/** Dependencies of the proxy core: one configuration generation. */
export interface ProxyOptions {
  /** Pools by name. */
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly router: Router;
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** Gets each request's access-log record when set (`policy/access_log.ts`). */
  readonly accessLog?: AccessLogSink;
  readonly trustProxy: readonly Cidr[];
  /** Status for a request no route matches. */
  readonly noRouteStatus: number;
  /** The edge policies of the routes that have any, by route name (`policy/chain.ts`). */
  readonly policies?: ReadonlyMap<string, PolicyChain>;
  /** Sends mirror copies; shared across generations, as its cap is global. */
  readonly mirror?: Mirror;
  readonly hooks?: LbHooks;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /** Wall-clock milliseconds, for the access record's time; `Date.now` by default. */
  readonly wallNow?: () => number;
  /**
   * The scheme clients reach this listener with, sent upstream as
   * `X-Forwarded-Proto` and `proto=` in `Forwarded`; "http" by default.
   */
  readonly proto?: "http" | "https";
  /**
   * The admin token (`--admin-token`): a request whose `X-LB-Explain`
   * field carries it gets an explanation of what the lb decided
   * (`docs/explain.md`). Without one, the field is only stripped.
   */
  readonly explainToken?: string;
}

/** A tunnel's upstream side, opened by {@link ProxyCore.openTunnel}. */
export interface OpenedTunnel<T> {
  readonly backend: Backend;
  /** What `open` returned for the backend that accepted. */
  readonly value: T;
  /** Fields the strategy adds to the client's answer (a sticky cookie). */
  readonly responseHeaders: HeaderPairs | undefined;
  /** Ends the backend's part; call once when the tunnel closes. */
  release(): void;
}

/**
 * Opens the upstream side of a tunnel on one backend within the pool's
 * connect timeout, or rejects with an `UpstreamError`.
 */
export type TunnelOpener<T> = (
  backend: Backend,
  path: string,
  headers: HeaderPairs,
  connectTimeoutMs: number,
) => Promise<T>;

/** The proxy core: one per configuration generation. */
export interface ProxyCore {
  /** Proxies one request. Never rejects: failures become error replies. */
  handle(req: ProxyRequest): Promise<ProxyExchange>;
  /**
   * Routes and balances a tunnel (a WebSocket on `Deno.serve`) through the
   * same retry loop, with `open` as the attempt. Rejects with the failure;
   * the request is counted either way.
   */
  openTunnel<T>(req: ProxyRequest, open: TunnelOpener<T>): Promise<OpenedTunnel<T>>;
  /** Whether fronts must count streamed body bytes (an access log or `onLog` wants them). */
  readonly countsBytes: boolean;
  /** The options the core was made with. */
  readonly options: ProxyOptions;
}

/** Creates the proxy core. */
export function createProxy(options: ProxyOptions): ProxyCore {
  const { metrics, log, accessLog, trustProxy, router, upstreams, hooks } = options;
  const now = options.now ?? (() => performance.now());
  const deps = { metrics, log, now };
  const accounting = new Accounting(metrics, accessLog, hooks, {
    now,
    wallNow: options.wallNow ?? Date.now,
  });
  const count = accounting.count.bind(accounting);
  const proto = options.proto ?? "http";
  const explainToken = options.explainToken;
  const byName = new Map(router.routes.map((r) => [r.name, r]));
  const policies = options.policies !== undefined && options.policies.size > 0
    ? options.policies
    : undefined;
  // Each route's retry-on-status rule, made once per chain rather than per request.
  const statusRetries = new Map<PolicyChain, StatusRetry<UpstreamResponse> | undefined>();
  for (const chain of policies?.values() ?? []) statusRetries.set(chain, retryOn(chain.retryOn));

  /** Validates the request and decides its route, pool, path and upstream headers. */
  function route(
    req: ProxyRequest,
    start: number,
    forced: string | undefined,
    explain: Explain | undefined,
  ): Routed {
    const host = req.host;
    // RFC 9112 §3.2: a request without Host must be refused with 400.
    if (host === null || host === "") throw new BadRequestError("missing Host header");
    const chosen = forced === undefined ? router.match(req) : byName.get(forced);
    if (!chosen) {
      if (explain) explainMiss(explain, router.routes, req, forced);
      throw new NoRouteError(options.noRouteStatus, forced && `no route named ${forced}`);
    }
    const up = upstreams.get(chosen.pool())!;
    if (explain) {
      explainRouted(explain, router.routes, req, chosen, {
        pool: up.name,
        strategy: up.config.strategy,
        forced,
      });
    }
    const headers = upstreamRequestHeaders(
      req.headers,
      { ip: req.clientIp, proto, host },
      trustProxy,
      req.contentLength,
    );
    let path = chosen.rewrite(req.path);
    if (hooks?.rewriteRequest) {
      const draft = { method: req.method, path, headers };
      hooks.rewriteRequest(draft, { request: req, route: chosen.name, pool: up.name });
      path = draft.path;
    }
    const chain = policies?.get(chosen.name);
    return {
      route: chosen,
      up,
      headers,
      path,
      ctx: { now: start, request: req, exclude: new Set(), trace: explain },
      policy: chain && {
        chain,
        x: chain.exchange(req, chosen.name, up.name, headers, trustProxy, explain),
      },
      explain,
    };
  }

  async function handle(req: ProxyRequest): Promise<ProxyExchange> {
    const start = now();
    accounting.begin();
    const explain = explainToken === undefined
      ? undefined
      : explainRequested(req.headers, explainToken);
    let routed: Routed | undefined;
    let answer: Answer<UpstreamResponse> | undefined;
    let reply: ProxyReply;
    try {
      // No hook, no await: most requests take the synchronous path.
      const decision = hooks?.onRequest ? await hooks.onRequest(req) : undefined;
      if (decision instanceof Response) {
        if (explain) explain.noRoute = "a hook (onRequest) answered";
        return answered(req, responseReply(decision), start, explain);
      }
      routed = route(req, start, decision?.route, explain);
      let early: ProxyReply | undefined;
      if (routed.policy) {
        const asked = routed.policy.chain.request(routed.policy.x);
        early = asked instanceof Promise ? await asked : asked;
      }
      if (early !== undefined) reply = refused(req, early);
      else {
        answer = await send(req, routed, start);
        if (routed.policy) routed.policy.x.backend = answer.backend.id;
        reply = clientReply(
          answer.value,
          routed.up.strategy.responseHeaders?.(answer.backend, routed.ctx),
          req,
        );
        if (hooks?.modifyResponse) reply = modified(reply, routed, answer.backend, req);
      }
    } catch (err) {
      answer?.release();
      answer = undefined;
      reply = failureReply(err, req, routed?.up.retryAfterSeconds ?? 1, log, hooks);
    }
    // Every reply on a route with policies passes them: its own, an error's, a policy's.
    if (routed?.policy) reply = routed.policy.chain.response(reply, routed.policy.x);
    if (explain) reply = explainedReply(reply, explain);
    // The response headers' arrival is the end of what the duration measures.
    count(routed, answer?.backend, req.method, reply.status, (answer?.at ?? now()) - start);
    return accounting.exchange(reply, req, routed, answer, start, explain);
  }

  /** A policy's own answer: the request body nobody will read is let go. */
  function refused(req: ProxyRequest, reply: ProxyReply): ProxyReply {
    letBodyGo(req.body);
    return reply;
  }

  /** A reply the core made itself (a hook answered): no route, no backend. */
  function answered(
    req: ProxyRequest,
    reply: ProxyReply,
    start: number,
    explain: Explain | undefined,
  ): ProxyExchange {
    if (explain) reply = explainedReply(reply, explain);
    count(undefined, undefined, req.method, reply.status, now() - start);
    return accounting.exchange(reply, req, undefined, undefined, start, explain);
  }

  async function send(req: ProxyRequest, routed: Routed, start: number) {
    const { up, headers, path, ctx } = routed;
    up.budget.recordRequest(start);
    const upgrade = up.transport.tunnels ? req.upgrade : undefined;
    // A tunnel: the backend must see the upgrade offer these rules strip.
    if (upgrade !== undefined) headers.push(["connection", "upgrade"], ["upgrade", upgrade]);
    // Most requests have no body: skip the await (and its microtask) for them.
    const body = req.body === null ? null : await replayableBody(req, up.config.retry.bufferBytes);
    const request = { method: req.method, path, headers, body, signal: req.signal };
    const mirror = routed.route.mirror;
    if (mirror !== undefined && upgrade === undefined) {
      options.mirror?.send(routed.route.name, upstreams.get(mirror)!, request, req);
    }
    const on5xx = up.config.outlier.on5xx;
    return await sendWithRetries(up, deps, {
      facts: {
        method: req.method,
        hasBody: req.body !== null,
        replayable: body instanceof Uint8Array,
        idempotencyKey: headerValue(req.headers, "idempotency-key") !== undefined,
        perTryTimeout: up.perTryTimeout,
      },
      ctx,
      start,
      signal: req.signal,
      sendsAtStart: req.body === null,
      send: routed.policy?.chain.observesAttempts
        ? observed(routed.policy.chain, routed.policy.x, up, request)
        : (backend) => up.transport.request(backend.spec, request),
      failed: on5xx ? (res) => res.status >= 500 : undefined,
      retryOn: routed.policy && statusRetries.get(routed.policy.chain),
      explain: routed.explain,
    });
  }

  /** Attempts that the route's policies see start and end (trace spans). */
  function observed(
    chain: PolicyChain,
    x: PolicyExchange,
    up: Upstream,
    request: UpstreamRequest,
  ): (backend: Backend) => Promise<UpstreamResponse> {
    return async (backend) => {
      const end = chain.attempt(x, backend.spec);
      try {
        const res = await up.transport.request(backend.spec, request);
        end(res.status);
        return res;
      } catch (err) {
        end(undefined, err);
        throw err;
      }
    };
  }

  function modified(reply: ProxyReply, routed: Routed, backend: Backend, req: ProxyRequest) {
    const draft = { status: reply.status, headers: reply.headers };
    const ctx: HookContext & { backend: Backend["spec"] } = {
      request: req,
      route: routed.route.name,
      pool: routed.up.name,
      backend: backend.spec,
    };
    hooks!.modifyResponse!(draft, ctx);
    return draft.status === reply.status ? reply : { ...reply, status: draft.status };
  }

  async function openTunnel<T>(req: ProxyRequest, open: TunnelOpener<T>) {
    const start = now();
    let routed: Routed | undefined;
    let status = 101;
    let backend: Backend | undefined;
    const explain = explainToken === undefined
      ? undefined
      : explainRequested(req.headers, explainToken);
    try {
      const decision = hooks?.onRequest ? await hooks.onRequest(req) : undefined;
      if (decision instanceof Response) {
        throw new BadRequestError("a hook answered a WebSocket handshake");
      }
      routed = route(req, start, decision?.route, explain);
      const { up, path, headers, policy } = routed;
      // A handshake passes the route's policies as any request does.
      if (policy) {
        const asked = policy.chain.request(policy.x);
        const early = asked instanceof Promise ? await asked : asked;
        if (early !== undefined) throw new PolicyAnswer(policy.chain.response(early, policy.x));
      }
      const answer = await sendWithRetries(up, deps, {
        facts: { method: req.method, hasBody: false },
        ctx: routed.ctx,
        start,
        signal: req.signal,
        sendsAtStart: true,
        send: (b) => open(b, path, headers, up.config.connectTimeoutMs),
        explain,
      });
      backend = answer.backend;
      let responseHeaders = up.strategy.responseHeaders?.(backend, routed.ctx);
      if (policy) {
        // The 101's own fields from the policies' response side (a request ID).
        policy.x.backend = backend.id;
        const added = policy.chain.response({ status: 101, headers: [], body: null }, policy.x);
        if (added.headers.length > 0) {
          responseHeaders = [...responseHeaders ?? [], ...added.headers];
        }
      }
      if (explain) {
        // The 101 carries the explanation; a failed handshake's reply does not.
        explain.status = 101;
        responseHeaders = [...responseHeaders ?? [], [EXPLAIN_FIELD, renderExplain(explain)]];
      }
      // The tunnel's end is the exchange's: the policies' `done` (a trace span ends) goes with it.
      const release = policy
        ? () => {
          answer.release();
          policy.chain.done(policy.x, 101, 0);
        }
        : answer.release;
      return { backend, value: answer.value, responseHeaders, release };
    } catch (err) {
      status = statusFor(err);
      // A failure on a route with policies passes their response side too, as in handle().
      const policy = routed?.policy;
      if (policy && !(err instanceof PolicyAnswer)) {
        const reply = errorReply(err, routed!.up.retryAfterSeconds);
        throw new PolicyAnswer(policy.chain.response(reply, policy.x), err);
      }
      throw err;
    } finally {
      count(routed, backend, req.method, status, now() - start);
    }
  }

  return { handle, openTunnel, countsBytes: accounting.logs, options };
}

/** The retry-on-status test of `policies.retry`, with a discard for the answer not used. */
function retryOn(
  statuses: ReadonlySet<number> | undefined,
): StatusRetry<UpstreamResponse> | undefined {
  if (statuses === undefined) return undefined;
  return {
    wants: (res) => statuses.has(res.status) ? res.status : undefined,
    discard: discardResponse,
  };
}
