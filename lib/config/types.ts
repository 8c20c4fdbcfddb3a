/**
 * The shape of a validated configuration: global settings, named pools and
 * ordered routes. Immutable values only; parsing lives in `parse.ts`, the
 * option table in `options.ts`.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import type { Cidr } from "../core/cidr.ts";
import type { AccessField, AccessLogFormat } from "../core/access_record.ts";
import type { LogFormat, LogLevelName } from "../core/logging.ts";
import type { FrontName, StrategyName, TransportName } from "./names.ts";
import type { PolicySet } from "./policies/types.ts";

export type { PolicySet };

export type { BackendSpec };

/** Active health checking. */
export interface HealthConfig {
  /** Time between probes of a healthy backend (`health-interval`), ms. */
  readonly intervalMs: number;
  /** Time one probe may take (`health-timeout`), ms. */
  readonly timeoutMs: number;
  /** Consecutive successful probes that bring a down backend up. */
  readonly rise: number;
  /** Consecutive failed probes that take an up backend down. */
  readonly fall: number;
  /** Probe interval while a backend is down, so it returns sooner. */
  readonly downIntervalMs: number;
  /** HTTP checks; TCP connect checks when absent. */
  readonly http?: HttpCheckConfig;
}

/** Where `consistent-hash` takes its key from. */
export type HashKey =
  | { readonly kind: "client-ip" }
  | { readonly kind: "path" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/** Strategy settings beyond the name. */
export interface BalancingConfig {
  /** Where `consistent-hash` takes its key from (`hash-key`). */
  readonly hashKey: HashKey;
  /** Name of the `sticky-cookie` strategy's cookie (`sticky-cookie`). */
  readonly stickyCookieName: string;
  /** HMAC secret for sticky cookies; replicas must share it to agree. */
  readonly stickySecret: string;
  /** Whether the secret was generated because none was configured. */
  readonly stickySecretGenerated: boolean;
  /** Time constant of each backend's latency EWMA for `p2c-ewma` (`ewma-decay`), ms. */
  readonly ewmaDecayMs: number;
  /** A backend back from down ramps its weight up over this long (0: off). */
  readonly slowStartMs: number;
}

/** HTTP health checks; absent means TCP connect checks. */
export interface HttpCheckConfig {
  /** Path probed with GET (`health-path`), e.g. `/readyz`. */
  readonly path: string;
  /** `Host` to send; the backend's host:port when absent. */
  readonly host?: string;
  /** Lowest status that counts as healthy (`health-status`, 200 by default). */
  readonly statusMin: number;
  /** Highest status that counts as healthy (`health-status`, 399 by default). */
  readonly statusMax: number;
}

/** Passive outlier detection on live traffic. */
export interface OutlierConfig {
  /** Consecutive upstream errors that eject a backend (0: off). */
  readonly consecutiveErrors: number;
  /** Count 5xx answers as errors too. */
  readonly on5xx: boolean;
  /** First ejection lasts this long; each repeat adds as much again. */
  readonly baseEjectionMs: number;
  /** Never eject more than this share of the pool (a panic floor). */
  readonly maxEjectionPercent: number;
}

/** Retry limits beyond `--retries`. */
export interface RetryConfig {
  /** Retries may be at most this percentage of recent requests. */
  readonly budgetPercent: number;
  /** Retries always allowed per second, whatever the budget says (so a quiet lb can still retry). */
  readonly budgetMinPerSecond: number;
  /** Time one attempt may take to response headers (the overall limit is --response-timeout). */
  readonly tryTimeoutMs: number;
  /** Request bodies up to this size are kept so they can be replayed. */
  readonly bufferBytes: number;
}

/** Per-backend concurrency limits. */
export interface LimitsConfig {
  /** Requests in flight per backend before new ones queue (0: unlimited). */
  readonly maxPerBackend: number;
  /** How long a request may wait in that queue before a 503. */
  readonly queueTimeoutMs: number;
  /**
   * Connections the upstream transport opens per backend (0: no limit).
   * Long-lived streams (SSE, long polls) each hold one, so raise it for them.
   */
  readonly upstreamConnections: number;
}

/** One discovery source. */
export type DiscoverTarget =
  /** A/AAAA records of `name`; every address becomes `http://address:port`. */
  | { readonly kind: "dns"; readonly name: string; readonly port: number }
  /** SRV records of `name` (e.g. `_http._tcp.web.example`): their targets, ports and weights. */
  | { readonly kind: "srv"; readonly name: string };

/** DNS service discovery; no targets means off. */
export interface DiscoveryConfig {
  /** Names to resolve (`discover`); none means discovery is off. */
  readonly targets: readonly DiscoverTarget[];
  /** Re-resolve this often, or at the records' TTL when that is sooner (min 1 s). */
  readonly intervalMs: number;
  /** Resolver to ask instead of the system's. */
  readonly dnsServer?: { readonly host: string; readonly port: number };
}

/** TLS termination for the traffic listener. */
export interface TlsConfig {
  /** PEM certificate chain and key files for the traffic listener; HTTPS (and HTTP/2) when set. */
  readonly certFile?: string;
  /** PEM private key file for `certFile` (`tls-key`). */
  readonly keyFile?: string;
}

/** WebSocket tunnelling limits. */
export interface WebSocketConfig {
  /** A tunnel with no message either way for this long is closed (1001). */
  readonly idleTimeoutMs: number;
  /** Most bytes queued toward a slow peer before the tunnel is closed (1008). */
  readonly maxBufferedBytes: number;
}

/** The front's settings. */
export interface FrontConfig {
  /** `h1`: our HTTP/1.1 server on Deno.listen; `deno-serve`: Deno.serve (plain HTTP; TLS always uses it). */
  readonly name: FrontName;
  /** The whole request head must arrive within this (`--client-header-timeout`, 10s). */
  readonly headerTimeoutMs: number;
  /** Longest wait for the next request on a kept-alive connection (`--client-idle-timeout`, 60s). */
  readonly idleTimeoutMs: number;
  /** Longest wait for a byte of the body, or for a reply write to progress (`--client-body-timeout`, 60s). */
  readonly bodyTimeoutMs: number;
  /**
   * Most client connections open at once (`--max-client-connections`); 0
   * means derived from the process's file limit at start (see
   * {@link defaultMaxClientConnections}).
   */
  readonly maxClientConnections: number;
  /** Every connection must open with a PROXY header (v1 or v2), from a `--trust-proxy` source. */
  readonly proxyProtocol: boolean;
}

/** One named pool: its backends and everything that decides how they are used. */
export interface PoolConfig {
  /** The pool's name, from the config file (`default` for a single-pool config); a metric label. */
  readonly name: string;
  /** Static backends (`backends`); discovered ones are added at run time. */
  readonly backends: readonly BackendSpec[];
  /** How a backend is picked (`strategy`). */
  readonly strategy: StrategyName;
  /** The upstream client (`transport`). */
  readonly transport: TransportName;
  /** Active health checks. */
  readonly health: HealthConfig;
  /** Time to connect to a backend (`connect-timeout`), ms. */
  readonly connectTimeoutMs: number;
  /** Overall time to response headers, across attempts. */
  readonly responseTimeoutMs: number;
  /** How long an idle pooled upstream connection is kept. */
  readonly idleTimeoutMs: number;
  /** Extra attempts on other backends. */
  readonly retries: number;
  /** Strategy settings beyond the name. */
  readonly balancing: BalancingConfig;
  /** Passive outlier detection. */
  readonly outlier: OutlierConfig;
  /** Retry limits beyond `retries`. */
  readonly retry: RetryConfig;
  /** Per-backend concurrency limits and the transport's connection cap. */
  readonly limits: LimitsConfig;
  /** DNS discovery of more backends (`discover`). */
  readonly discovery: DiscoveryConfig;
  /** PEM file of extra CAs `https://` backends are verified against. */
  readonly backendCaFile?: string;
}

/** What a route tests; every test given must pass. */
export interface RouteMatch {
  /** Host names, exact (`api.example.com`) or a wildcard of subdomains (`*.example.com`); any of them. */
  readonly hosts?: readonly string[];
  /** Path prefixes, by whole segments (`/api` matches `/api` and `/api/x`, not `/apix`); any of them. */
  readonly pathPrefixes?: readonly string[];
  /** Exact paths (query excluded); any of them. */
  readonly paths?: readonly string[];
  /** Methods (upper case); any of them. */
  readonly methods?: readonly string[];
  /** Field name (lower case) -> accepted values (exact); every field must match one. */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  /** Query parameter -> accepted values (exact, decoded); every parameter must match one. */
  readonly query?: Readonly<Record<string, readonly string[]>>;
}

/** Where a route sends: one pool, or pools by weight. */
export type RouteTarget =
  | { readonly kind: "pool"; readonly pool: string }
  | { readonly kind: "split"; readonly weights: readonly (readonly [string, number])[] };

/** One route: the first whose match passes handles the request. */
export interface RouteConfig {
  /** From the config, or `route-N` (N from 1, in file order); a metric label. */
  readonly name: string;
  /** What the request must pass for this route to take it (an empty match takes every request). */
  readonly match: RouteMatch;
  /** The pool, or pools by weight, the request goes to. */
  readonly target: RouteTarget;
  /** A pool that gets a copy of each request; its answers are discarded. */
  readonly mirror?: string;
  /** Removed from the start of the path before it goes upstream. */
  readonly stripPrefix?: string;
  /** Put in place of `stripPrefix` (needs it); `/` when absent. */
  readonly replacePrefix?: string;
  /** The edge policies in force on the route (its own over the file's defaults); absent when none. */
  readonly policies?: PolicySet;
}

/** How and where access-log lines are written (`access-log-*`). */
export interface AccessLogOutput {
  /** `log`: through the lb's own log (text or JSON by `log-format`); else this format's lines. */
  readonly format: AccessLogFormat;
  /** The `json` format's fields, in order (`access-log-fields`). */
  readonly fields: readonly AccessField[];
  /** The `template` format's line (`access-log-template`); empty for the other formats. */
  readonly template: string;
  /** The file lines are appended to, reopened on SIGUSR1 (`access-log-file`); stdout when absent. */
  readonly file?: string;
}

/** Everything `lb` needs to run, validated. */
export interface LbConfig {
  /** Traffic listener address (`host`). */
  readonly host: string;
  /** Traffic listener port (`port`; 0 picks a free one). */
  readonly port: number;
  /** Admin listener address (`admin-host`). */
  readonly adminHost: string;
  /** Admin listener port (`admin-port`; 0 picks a free one). */
  readonly adminPort: number;
  /** Peers whose `X-Forwarded-*`/`Forwarded` fields (and PROXY headers) are trusted (`trust-proxy`). */
  readonly trustProxy: readonly Cidr[];
  /** Lowest level logged (`log-level`). */
  readonly logLevel: LogLevelName;
  /** Log line format (`log-format`). */
  readonly logFormat: LogFormat;
  /** Whether every request is logged (`access-log`, or any `access-log-*` option set). */
  readonly accessLog: boolean;
  /** How and where access-log lines are written. */
  readonly accessLogOutput: AccessLogOutput;
  /** Threads serving traffic (`workers`); 0 means one per CPU the process may use. */
  readonly workers: number;
  /** Time the lb keeps serving after readiness starts failing on SIGTERM (`shutdown-delay`), ms. */
  readonly shutdownDelayMs: number;
  /** Time requests in flight get to finish on shutdown (`shutdown-timeout`), ms. */
  readonly shutdownTimeoutMs: number;
  /** The client-facing server and its timeouts and cap. */
  readonly front: FrontConfig;
  /** TLS termination for the traffic listener. */
  readonly tls: TlsConfig;
  /** WebSocket tunnelling limits. */
  readonly websocket: WebSocketConfig;
  /** Path of the config file (`--config`), if any. */
  readonly configFile?: string;
  /** Bearer token for the admin API's mutating routes; they are off without one. */
  readonly adminToken?: string;
  /** Status for a request no route matches (404 by default). */
  readonly noRouteStatus: number;
  /** Mirror requests in flight at once, over all routes; more are skipped. */
  readonly mirrorMaxInFlight: number;
  /**
   * The sticky-cookie secret of every pool that has none configured: one
   * per process, from `parseLbArgs`'s `randomSecret`. A reload passes it
   * back (`() => running.generatedStickySecret`) so cookies stay valid.
   */
  readonly generatedStickySecret: string;
  /** In config order; names are unique. */
  readonly pools: readonly PoolConfig[];
  /** In match order. */
  readonly routes: readonly RouteConfig[];
  /**
   * The effective value of every option as text (`"5s"`, `"true"`), global
   * ones under `""` and pool ones under the pool's name: what a reload
   * compares to find changes that need a restart, and what `--check` prints.
   */
  readonly settings: Readonly<Record<string, Readonly<Record<string, string>>>>;
}
