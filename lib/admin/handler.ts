/**
 * The admin listener's routes: Kubernetes-style probes, Prometheus metrics,
 * a JSON status page, and the JSON admin API under `/api/` (`admin_api.ts`).
 * Kept off the traffic port so probes, scrapes and admin calls never compete
 * with, or get proxied as, client traffic.
 *
 * @module
 */

import { backendState, createAdminApi } from "./api.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.ts";
import type { Pool } from "../pool/pool.ts";

// One definition of the state word, shared with the API; re-exported for existing importers.
export { backendState };

/** What the admin routes read. */
export interface AdminOptions {
  readonly pool: Pool;
  readonly metrics: LbMetrics;
  /** Whether shutdown has begun (readiness then fails). */
  readonly shuttingDown: () => boolean;
  readonly startedAt: number;
  readonly version: string;
  readonly now?: () => number;
  /** Bearer token of the admin API's mutating routes; without one the API is read-only. */
  readonly token?: string;
}

/** Creates the admin handler. */
export function createAdminHandler(
  options: AdminOptions,
): (req: Request) => Response | Promise<Response> {
  const { pool, metrics, shuttingDown } = options;
  const now = options.now ?? Date.now;
  const api = createAdminApi({ pool, token: options.token });
  return function admin(req) {
    const path = new URL(req.url).pathname;
    const answer = api(req, path);
    if (answer) return answer;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    switch (path) {
      case "/livez":
      case "/healthz":
        return text(200, "ok\n");
      case "/readyz": {
        if (shuttingDown()) return text(503, "shutting down\n");
        if (pool.healthy.length === 0) return text(503, "no healthy backend\n");
        return text(200, "ready\n");
      }
      case "/metrics":
        return new Response(metrics.registry.render(), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      case "/status":
        return Response.json(statusReport(options, now()), {
          headers: { "cache-control": "no-store" },
        });
      default:
        return text(
          404,
          "not found (try /livez, /readyz, /healthz, /metrics, /status, /api/backends)\n",
        );
    }
  };
}

/** The `/status` document. */
export function statusReport(options: AdminOptions, now: number) {
  const { pool } = options;
  return {
    version: options.version,
    uptimeSeconds: Math.round((now - options.startedAt) / 1000),
    ready: !options.shuttingDown() && pool.healthy.length > 0,
    shuttingDown: options.shuttingDown(),
    memoryMiB: mib(Deno.memoryUsage()),
    backends: pool.backends.map((b) => {
      const [p50, p90, p99] = b.latency.percentiles([0.5, 0.9, 0.99]).map(round2);
      return {
        url: b.id,
        state: backendState(b),
        lastChange: new Date(b.lastChange).toISOString(),
        reason: b.reason,
        weight: b.weight,
        metadata: b.spec.metadata ?? {},
        effectiveWeight: round2(b.effectiveWeight),
        inFlight: b.inFlight,
        requests: b.requests,
        failures: b.failures,
        ejections: b.outlier.ejections,
        latencyMs: { p50, p90, p99, ewma: round2(b.ewma.value(performance.now())) },
      };
    }),
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

function round2(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 100) / 100;
}
