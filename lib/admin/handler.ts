/**
 * The admin listener's routes: Kubernetes-style probes, Prometheus metrics,
 * a JSON status page of every pool and route, and the JSON admin API under
 * `/api/` (`api.ts`). Kept off the traffic port so probes, scrapes and admin
 * calls never compete with, or get proxied as, client traffic.
 *
 * @module
 */

import type { RouteConfig } from "../config/types.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.ts";
import { createAdminApi } from "./api.ts";
import type { AdminPool, AdminPools, TrafficReport, WorkerControl, WorkerView } from "./types.ts";
import {
  backendState,
  type PoolView,
  type RouteView,
  routeView,
  type StatusBackend,
  statusBackend,
} from "./views.ts";

export type { AdminPool, AdminPools };
// One definition of the state word, shared with the API; re-exported for existing importers.
export { backendState };

/** What the admin routes read. */
export interface AdminOptions {
  /** The pools of the current generation, in config order; read on every request, so a reload shows at once. */
  readonly pools: AdminPools;
  /** The routes of the current generation, in match order, for `/status`. */
  readonly routes: () => readonly RouteConfig[];
  /**
   * Gathers the metrics, the workers and the backends' traffic from every
   * thread serving traffic; called once per request that shows them.
   */
  readonly report: () => Promise<TrafficReport>;
  /** The worker threads, with `--workers`. */
  readonly workers?: WorkerControl;
  /** Whether shutdown has begun (readiness then fails). */
  readonly shuttingDown: () => boolean;
  /** When the process started (epoch ms), for `uptimeSeconds`. */
  readonly startedAt: number;
  /** The lb's version, shown in `/status`. */
  readonly version: string;
  /** Wall clock (epoch ms); `Date.now` by default. */
  readonly now?: () => number;
  /** Bearer token of the admin API's mutating routes; without one the API is read-only. */
  readonly token?: string;
}

/** Creates the admin handler. */
export function createAdminHandler(
  options: AdminOptions,
): (req: Request) => Response | Promise<Response> {
  const now = options.now ?? Date.now;
  const api = createAdminApi({
    pools: options.pools,
    token: options.token,
    workers: options.workers,
  });
  return async function admin(req) {
    const path = new URL(req.url).pathname;
    const answer = api(req, path, options.report);
    if (answer) return answer;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    switch (path) {
      case "/livez":
      case "/healthz":
        return text(200, "ok\n");
      case "/readyz": {
        const why = notReady(options.shuttingDown(), options.pools());
        return why ? text(503, `${why}\n`) : text(200, "ready\n");
      }
      case "/metrics":
        return new Response((await options.report()).metrics, {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      case "/status":
        return Response.json(statusReport(options, now(), await options.report()), {
          headers: { "cache-control": "no-store" },
        });
      default:
        return text(
          404,
          "not found (try /livez, /readyz, /healthz, /metrics, /status, /api/pools, /api/backends)\n",
        );
    }
  };
}

/**
 * Why the lb is not ready, or undefined when it is. Ready means not
 * shutting down and at least one pool with a healthy backend: an lb fronts
 * several services, and one of them down must not take the lb out of the
 * Kubernetes Service (or cloud load balancer) that sends it the traffic of
 * the others. That service's requests still fail fast with 503 from the
 * proxy, and `/status` shows which pool has nothing healthy.
 */
function notReady(shuttingDown: boolean, pools: readonly AdminPool[]): string | undefined {
  if (shuttingDown) return "shutting down";
  if (pools.length === 0) return "no pools configured";
  if (!pools.some((p) => p.pool.healthy.length > 0)) return "no healthy backend in any pool";
  return undefined;
}

/** One backend in `/status`'s flat list: its pool's entry plus the pool's name. */
export interface StatusListedBackend extends StatusBackend {
  /** The name of the pool it is a member of (a backend may be in several). */
  readonly pool: string;
}

/** The `/status` document; see {@link statusReport}. */
export interface StatusReport {
  /** The lb's version. */
  readonly version: string;
  /** Seconds since the process started. */
  readonly uptimeSeconds: number;
  /** What `/readyz` answers: not shutting down, and some pool has a healthy backend. */
  readonly ready: boolean;
  /** Whether shutdown has begun. */
  readonly shuttingDown: boolean;
  /** `Deno.memoryUsage()` in MiB, to one decimal. */
  readonly memoryMiB: Readonly<Record<string, number>>;
  /** Every pool in config order, each with its backends. */
  readonly pools: readonly PoolView<StatusBackend>[];
  /** Every route in match order. */
  readonly routes: readonly RouteView[];
  /** Every backend of every pool, in pool then member order, each with its pool's name. */
  readonly backends: readonly StatusListedBackend[];
  /** The threads serving traffic: the main thread alone (id 0), or workers 1..N. */
  readonly workers: readonly WorkerView[];
}

/**
 * The `/status` document: process facts, each pool with its backends, the
 * routes as configured, and `backends`, every backend of every pool in one
 * list with its pool's name (what tools written for a single pool read).
 * `ready` is `/readyz`'s answer: not shutting down and at least one pool
 * with a healthy backend.
 */
export function statusReport(
  options: AdminOptions,
  now: number,
  report: TrafficReport,
): StatusReport {
  const current = options.pools();
  const shuttingDown = options.shuttingDown();
  const pools = current.map(({ pool, config }): PoolView<StatusBackend> => ({
    name: pool.name,
    strategy: config.strategy,
    healthy: pool.healthy.length,
    backends: pool.backends.map((b) => statusBackend(b, report.traffic(pool.name, b))),
  }));
  return {
    version: options.version,
    uptimeSeconds: Math.round((now - options.startedAt) / 1000),
    ready: notReady(shuttingDown, current) === undefined,
    shuttingDown,
    memoryMiB: mib(Deno.memoryUsage()),
    pools,
    routes: options.routes().map(routeView),
    backends: pools.flatMap((p) => p.backends.map((b) => ({ pool: p.name, ...b }))),
    workers: report.workers,
  };
}

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...extra },
  });
}

function mib(usage: Deno.MemoryUsage): Record<string, number> {
  return Object.fromEntries(
    Object.entries(usage).map(([k, v]) => [k, Math.round(v / 1024 / 102.4) / 10]),
  );
}
