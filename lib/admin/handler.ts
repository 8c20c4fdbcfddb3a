/**
 * The admin listener's routes: Kubernetes-style probes, Prometheus metrics,
 * a JSON status page of every pool and route, the JSON admin API under
 * `/api/` (`api.ts`), and the live dashboard at `/` and `/dashboard`
 * (`dashboard_page.ts`, fed by `live.ts`). Kept off the traffic port so
 * probes, scrapes and admin calls never compete with, or get proxied as,
 * client traffic.
 *
 * @module
 */

import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.ts";
import { createAdminApi } from "./api.ts";
import { dashboardAsset } from "./dashboard_assets.ts";
import type { EventLog } from "./event_log.ts";
import { LiveFeed } from "./live.ts";
import { notReady, statusReport, type StatusSource } from "./status.ts";
import type { AdminPool, AdminPools, TrafficReport, WorkerControl } from "./types.ts";
import { backendState } from "./views.ts";

export type { AdminPool, AdminPools };
// One definition of the state word, shared with the API; re-exported for existing importers.
export { backendState };
// `/status` moved to `status.ts`, shared with the dashboard; re-exported for existing importers.
export { type StatusListedBackend, type StatusReport, statusReport } from "./status.ts";

/** What the admin routes read. */
export interface AdminOptions extends StatusSource {
  /**
   * Gathers the metrics, the workers and the backends' traffic from every
   * thread serving traffic; called once per request that shows them.
   */
  readonly report: () => Promise<TrafficReport>;
  /** The worker threads, with `--workers`. */
  readonly workers?: WorkerControl;
  /** Wall clock (epoch ms); `Date.now` by default. */
  readonly now?: () => number;
  /** Bearer token of the admin API's mutating routes; without one the API is read-only. */
  readonly token?: string;
  /** Recent health flips, ejections, membership changes and reloads, for the dashboard. */
  readonly events?: EventLog;
  /**
   * Interval of the dashboard's history samples while nobody watches (ms);
   * 0 (the default) samples only while a page is open.
   */
  readonly idleSampleMs?: number;
  /** Interval of the dashboard's updates while a page is open (ms); 1000 by default. */
  readonly tickMs?: number;
  /** Most dashboard streams at once (the next gets 503); 32 by default. */
  readonly maxDashboardStreams?: number;
}

/** The admin handler, with the dashboard feed it owns. */
export interface AdminHandler {
  (req: Request): Response | Promise<Response>;
  /** The dashboard's SSE feed (read `subscribers` and `ticking` in tests). */
  readonly live: LiveFeed;
  /** Ends the dashboard streams and stops its timers; call before shutting the listener down. */
  close(): void;
}

/** Creates the admin handler. */
export function createAdminHandler(options: AdminOptions): AdminHandler {
  const now = options.now ?? Date.now;
  const api = createAdminApi({
    pools: options.pools,
    token: options.token,
    workers: options.workers,
  });
  const live = new LiveFeed({
    source: options,
    report: options.report,
    events: options.events,
    actions: options.token !== undefined && options.token !== "",
    now,
    tickMs: options.tickMs,
    idleSampleMs: options.idleSampleMs,
    maxSubscribers: options.maxDashboardStreams,
  });
  const admin = async function admin(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const answer = api(req, path, options.report);
    if (answer) return answer;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    const asset = dashboardAsset(path);
    if (asset) return asset;
    switch (path) {
      case "/dashboard/events":
        // A HEAD gets the headers without joining the feed.
        return req.method === "HEAD"
          ? new Response(null, { headers: { "content-type": "text/event-stream; charset=utf-8" } })
          : live.connect();
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
          "not found (try / or /dashboard for the dashboard, /livez, /readyz, /healthz, " +
            "/metrics, /status, /api/pools, /api/backends)\n",
        );
    }
  };
  return Object.assign(admin, { live, close: () => live.close() });
}

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...extra },
  });
}
