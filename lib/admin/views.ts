/**
 * What the admin listener shows of backends, pools and routes: pure
 * functions from runtime state and configuration to JSON-ready objects, so
 * `/status` and the API describe one backend in one way.
 *
 * @module
 */

import type { RouteConfig, RouteMatch } from "../config/types.ts";
import { describePolicies } from "../config/policies/mod.ts";
import type { Backend } from "../pool/pool.ts";
import type { AdminPool, BackendTraffic, TrafficReport } from "./types.ts";

/** A backend's state as the API and `/status` report it, most specific first. */
export type BackendState = "up" | "down" | "ejected" | "draining" | "maintenance";

/** Draining and maintenance outrank health: they say why a backend gets no traffic. */
export function backendState(b: Backend): BackendState {
  if (b.draining) return "draining";
  if (b.maintenance) return "maintenance";
  if (!b.up) return "down";
  return b.ejected ? "ejected" : "up";
}

/** One backend as the API shows it. */
export interface BackendView {
  /** The canonical origin, also its id in paths and metric labels. */
  readonly url: string;
  /** Why it gets traffic or not; see {@link backendState}. */
  readonly state: BackendState;
  /** Configured weight. */
  readonly weight: number;
  /** The weight strategies use now (lower during slow start), to two decimals. */
  readonly effectiveWeight: number;
  /** Requests sent to it whose responses are not yet fully delivered. */
  readonly inFlight: number;
  /** Requests sent to it since it joined. */
  readonly requests: number;
  /** Attempts that failed before a response. */
  readonly failures: number;
  /** Outlier ejections so far. */
  readonly ejections: number;
  /** When `state` last changed, ISO 8601. */
  readonly lastChange: string;
  /** Why it last changed. */
  readonly reason: string;
}

/** The API's view of a backend, with its traffic over every thread. */
export function backendView(b: Backend, t: BackendTraffic): BackendView {
  return {
    url: b.id,
    state: backendState(b),
    weight: b.weight,
    effectiveWeight: round2(b.effectiveWeight),
    inFlight: t.inFlight,
    requests: t.requests,
    failures: t.failures,
    ejections: b.outlier.ejections,
    lastChange: new Date(b.lastChange).toISOString(),
    reason: b.reason,
  };
}

/** One pool as the API and `/status` show it, with backends of type `B`. */
export interface PoolView<B = BackendView> {
  /** The pool's name, as in `/api/pools/{pool}` and the `pool` metric label. */
  readonly name: string;
  /** The balancing strategy's name. */
  readonly strategy: string;
  /** Backends taking traffic now: up, and not ejected, draining or in maintenance. */
  readonly healthy: number;
  /** Every member in order, draining ones included. */
  readonly backends: readonly B[];
}

/** The API's view of a pool. */
export function poolView({ pool, config }: AdminPool, report: TrafficReport): PoolView {
  return {
    name: pool.name,
    strategy: config.strategy,
    healthy: pool.healthy.length,
    backends: pool.backends.map((b) => backendView(b, report.traffic(pool.name, b))),
  };
}

/** One backend as `/status` shows it: the API's view plus metadata and latency. */
export interface StatusBackend extends BackendView {
  /** The backend's metadata from the configuration (`{}` when none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Response-header latency of recent attempts (null before any), and its peak EWMA. */
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly ewma: number;
  };
}

/** `/status`'s view of a backend, with its traffic over every thread. */
export function statusBackend(b: Backend, t: BackendTraffic): StatusBackend {
  const round = (ms: number | null) => ms === null ? null : round2(ms);
  return {
    url: b.id,
    state: backendState(b),
    lastChange: new Date(b.lastChange).toISOString(),
    reason: b.reason,
    weight: b.weight,
    metadata: b.spec.metadata ?? {},
    effectiveWeight: round2(b.effectiveWeight),
    inFlight: t.inFlight,
    requests: t.requests,
    failures: t.failures,
    ejections: b.outlier.ejections,
    latencyMs: {
      p50: round(t.latencyMs.p50),
      p90: round(t.latencyMs.p90),
      p99: round(t.latencyMs.p99),
      ewma: round2(t.latencyMs.ewma),
    },
  };
}

/** Where a route sends, as JSON: a split's `[pool, weight]` pairs become `{pool, weight}` objects. */
export type RouteTargetView =
  | { readonly kind: "pool"; readonly pool: string }
  | {
    readonly kind: "split";
    readonly weights: readonly { readonly pool: string; readonly weight: number }[];
  };

/** One route as `/status` shows it; the optional fields appear only when configured. */
export interface RouteView {
  /** The route's name, as in the `route` metric label. */
  readonly name: string;
  /** The match as configured (only the tests given). */
  readonly match: RouteMatch;
  /** The pool, or pools by weight, that answer. */
  readonly target: RouteTargetView;
  /** The pool that gets a copy of each request. */
  readonly mirror?: string;
  /** Removed from the start of the path before it goes upstream. */
  readonly stripPrefix?: string;
  /** Put in place of `stripPrefix`. */
  readonly replacePrefix?: string;
  /** The edge policies in force, by config key, as `describe` shows them (no secrets). */
  readonly policies?: Readonly<Record<string, unknown>>;
}

/** A route's configuration as plain JSON (no tuples, no undefined fields). */
export function routeView(r: RouteConfig): RouteView {
  const target: RouteTargetView = r.target.kind === "pool"
    ? { kind: "pool", pool: r.target.pool }
    : { kind: "split", weights: r.target.weights.map(([pool, weight]) => ({ pool, weight })) };
  return {
    name: r.name,
    match: r.match,
    target,
    ...(r.mirror !== undefined && { mirror: r.mirror }),
    ...(r.stripPrefix !== undefined && { stripPrefix: r.stripPrefix }),
    ...(r.replacePrefix !== undefined && { replacePrefix: r.replacePrefix }),
    ...(r.policies !== undefined && { policies: describePolicies(r.policies) }),
  };
}

/** Two decimals, as every rate and weight the admin listener shows. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
