/**
 * Counters of the threads that serve traffic, and their sum: each thread
 * (a worker, or the main thread for in-process requests) describes its own
 * traffic as {@link ThreadStats}; the admin listener's {@link TrafficReport}
 * is their sum. Gathered on scrape, so the request path keeps plain
 * per-thread counters and pays nothing for the sum; a scrape costs each
 * worker one snapshot of its registry between two requests.
 *
 * @module
 */

import type { BackendTraffic, TrafficReport, WorkerView } from "../admin/types.ts";
import { type LbMetrics, MAIN_THREAD_FAMILIES } from "../metrics/lb_metrics.ts";
import { type FamilySnapshot, mergeFamilies, renderFamilies } from "../metrics/registry.ts";
import { percentilesOf } from "../pool/latency.ts";
import type { BackendCounters, HeapMiB, ThreadStats } from "./worker_messages.ts";
import type { Pool } from "../pool/pool.ts";

/** This thread's counters: its metric families and every backend's traffic. */
export function threadStats(pools: readonly Pool[], metrics: LbMetrics): ThreadStats {
  const monotonic = performance.now();
  const families = metrics.registry.snapshot();
  const backends: Record<string, Record<string, BackendCounters>> = {};
  for (const pool of pools) {
    const own: Record<string, BackendCounters> = backends[pool.name] = {};
    for (const b of pool.backends) {
      own[b.id] = {
        inFlight: b.inFlight,
        requests: b.requests,
        failures: b.failures,
        latencies: [...b.latency.samples()],
        ewma: b.ewma.value(monotonic),
      };
    }
  }
  const requests = requestsIn(families, metrics.requests.name);
  return { families, requests, heapMiB: heapMiB(), backends };
}

/** The report of a lb that serves on its main thread alone (shown as worker 0). */
export function singleThreadReport(
  pools: readonly Pool[],
  metrics: LbMetrics,
  startedAt: number,
): TrafficReport {
  const own = threadStats(pools, metrics);
  const main: WorkerView = {
    id: 0,
    state: "running",
    requests: own.requests,
    heapMiB: own.heapMiB,
    restarts: 0,
    startedAt: new Date(startedAt).toISOString(),
  };
  return sumStats(own, [], [main]);
}

/** This isolate's heap, from `Deno.memoryUsage()` (whose `rss` is the whole process's). */
function heapMiB(): HeapMiB {
  const m = Deno.memoryUsage();
  const mib = (n: number) => Math.round(n / 1024 / 102.4) / 10;
  return { total: mib(m.heapTotal), used: mib(m.heapUsed), external: mib(m.external) };
}

/** The sum of the counter family `name` (`lb_requests_total`) in `families`. */
function requestsIn(families: readonly FamilySnapshot[], name: string): number {
  const family = families.find((f) => f.name === name);
  let total = 0;
  for (const s of family?.series ?? []) total += typeof s.value === "number" ? s.value : 0;
  return total;
}

/**
 * The sum of the main thread's `own` stats and the `workers`' ones:
 * families only the main thread keeps come from it alone, the rest add up;
 * backend counters add up, latency percentiles are over every thread's
 * samples, and the EWMA is the highest thread's.
 */
export function sumStats(
  own: ThreadStats,
  workers: readonly ThreadStats[],
  views: readonly WorkerView[],
): TrafficReport {
  const all = [own, ...workers];
  let metrics: string | undefined;
  return {
    // Rendered on first read: `/status` and the dashboard's samples never read it.
    get metrics() {
      if (metrics !== undefined) return metrics;
      const served = workers.map((w) =>
        w.families.filter((f) => !MAIN_THREAD_FAMILIES.has(f.name))
      );
      return metrics = renderFamilies(mergeFamilies([own.families, ...served]));
    },
    workers: views,
    traffic(pool, backend) {
      return sumBackend(all.map((s) => s.backends[pool]?.[backend.id]));
    },
  };
}

function sumBackend(parts: readonly (BackendCounters | undefined)[]): BackendTraffic {
  let inFlight = 0, requests = 0, failures = 0, ewma = 0;
  const latencies: number[] = [];
  for (const p of parts) {
    if (!p) continue;
    inFlight += p.inFlight;
    requests += p.requests;
    failures += p.failures;
    ewma = Math.max(ewma, p.ewma);
    latencies.push(...p.latencies);
  }
  const [p50, p90, p99] = percentilesOf(Float64Array.from(latencies), [0.5, 0.9, 0.99]);
  return { inFlight, requests, failures, latencyMs: { p50, p90, p99, ewma } };
}
