/**
 * What the core records about each request, in one place: the request
 * counters and durations (by route, pool and backend), the in-flight gauge,
 * the end of an exchange (freeing its backend) and the access-log record.
 *
 * @module
 */

import { boundedRecord, type Explain } from "../core/explain.ts";
import type { ProxyReply, ProxyRequest } from "../core/message.ts";
import { type HeaderPairs, headerValue, type UpstreamResponse } from "../core/transport.ts";
import type { PickContext } from "../balancing/types.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import { RequestMetrics } from "../metrics/request_metrics.ts";
import type { Backend } from "../pool/pool.ts";
import type { CompiledRoute } from "../routing/router.ts";
import type { Answer } from "./attempts.ts";
import type { AccessRecord, LbHooks } from "./hooks.ts";
import type { Upstream } from "./upstream.ts";
import type { AccessLogSink } from "../policy/access_log.ts";
import type { PolicyChain } from "../policy/chain.ts";
import type { PolicyExchange } from "../policy/types.ts";

/** Where one request goes, decided before anything is sent. */
export interface Routed {
  readonly route: CompiledRoute;
  readonly up: Upstream;
  /** The upstream request's fields: hop-by-hop removed, forwarding fields set. */
  readonly headers: HeaderPairs;
  /** The upstream target, after the route's rewrite and the hooks. */
  readonly path: string;
  readonly ctx: PickContext & { readonly exclude: Set<Backend> };
  /** The route's edge policies and this request's passage through them; absent when none. */
  readonly policy?: { readonly chain: PolicyChain; readonly x: PolicyExchange };
  /** Set when the request asked for `X-LB-Explain` with the admin token. */
  readonly explain?: Explain;
}

/**
 * One request's passage through the core: its reply, and what must happen
 * once the front has delivered it (or given up).
 */
export interface ProxyExchange {
  readonly reply: ProxyReply;
  /**
   * Called once by the front when the reply was delivered or abandoned:
   * frees the backend, and writes the access log. `bytes` is the body bytes
   * sent to the client.
   */
  finish(bytes: number): void;
}

/** Stands for "no route matched" and "no pool" in the request metrics. */
const NO_ROUTE = { name: "none" } as const;
const NO_POOL = {};

/** Counts requests and ends exchanges for one core. */
export class Accounting {
  readonly #metrics: LbMetrics;
  readonly #recorder: RequestMetrics;
  readonly #accessLog: AccessLogSink | undefined;
  readonly #onLog: LbHooks["onLog"];
  readonly #now: () => number;
  readonly #wallNow: () => number;

  constructor(
    metrics: LbMetrics,
    accessLog: AccessLogSink | undefined,
    hooks: LbHooks | undefined,
    clocks: { readonly now: () => number; readonly wallNow: () => number },
  ) {
    this.#metrics = metrics;
    this.#recorder = new RequestMetrics(metrics);
    this.#accessLog = accessLog;
    this.#onLog = hooks?.onLog;
    this.#now = clocks.now;
    this.#wallNow = clocks.wallNow;
  }

  /** Whether anything wants access-log records (and so the bytes each reply carried). */
  get logs(): boolean {
    return this.#accessLog !== undefined || this.#onLog !== undefined;
  }

  /** A request has arrived. */
  begin(): void {
    this.#metrics.inFlight.inc();
  }

  /** Counts one answered (or failed) request; `ms` is the time to its response headers. */
  count(
    routed: Routed | undefined,
    backend: Backend | undefined,
    method: string,
    status: number,
    ms: number,
  ): void {
    this.#recorder.record(
      routed?.route ?? NO_ROUTE,
      routed?.route.name ?? "none",
      backend ?? routed?.up.pool ?? NO_POOL,
      routed?.up.name ?? "none",
      backend?.id ?? "none",
      method,
      status,
      ms / 1000,
    );
  }

  /** The exchange the front finishes; `answer` (if any) is released then. */
  exchange(
    reply: ProxyReply,
    req: ProxyRequest,
    routed: Routed | undefined,
    answer: Answer<UpstreamResponse> | undefined,
    start: number,
    explain?: Explain,
  ): ProxyExchange {
    return new Exchange(this, reply, req, routed, answer, start, explain);
  }

  /** Ends an exchange: the in-flight gauge, and the access-log record. */
  finished(exchange: Exchange, bytes: number): void {
    this.#metrics.inFlight.dec();
    const policy = exchange.routed?.policy;
    policy?.chain.done(policy.x, exchange.reply.status, bytes);
    if (!this.logs || (policy !== undefined && !policy.chain.logged)) return;
    const record = exchange.record(bytes, this.#now(), this.#wallNow());
    this.#accessLog?.write(record);
    this.#onLog?.(record);
  }
}

class Exchange implements ProxyExchange {
  #done = false;
  constructor(
    readonly accounting: Accounting,
    readonly reply: ProxyReply,
    readonly req: ProxyRequest,
    readonly routed: Routed | undefined,
    readonly answer: Answer<UpstreamResponse> | undefined,
    readonly start: number,
    readonly explain: Explain | undefined,
  ) {}

  finish(bytes: number): void {
    if (this.#done) return;
    this.#done = true;
    this.answer?.release();
    this.accounting.finished(this, bytes);
  }

  /** Made only when a log wants it: the fields a format may need are read here, not per request. */
  record(bytes: number, now: number, wallNow: number): AccessRecord {
    const { req, reply, routed, answer } = this;
    const record: AccessRecord = {
      method: req.method,
      path: req.path,
      status: reply.status,
      route: routed?.route.name ?? "none",
      pool: routed?.up.name ?? "none",
      backend: answer?.backend.id ?? "none",
      durationMs: Math.round((now - this.start) * 10) / 10,
      bytes,
      client: req.clientIp,
      requestId: routed?.policy?.x.requestId,
      user: routed?.policy?.x.user,
      time: wallNow,
      // Deno.serve doesn't say: HTTP/2 has `:authority` where HTTP/1.1 must send Host.
      protocol: req.protocol ??
        (headerValue(req.headers, "host") !== undefined ? "HTTP/1.1" : "HTTP/2.0"),
      host: req.host ?? "",
      userAgent: headerValue(req.headers, "user-agent"),
      referer: headerValue(req.headers, "referer"),
    };
    // Only an explained request's record has the field: the others keep their shape.
    return this.explain ? { ...record, explain: boundedRecord(this.explain) } : record;
  }
}
