/**
 * What a pool's events become outside it: log lines and metrics for health
 * flips, ejections and backends leaving, each labelled with the pool.
 *
 * @module
 */

import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Pool } from "../pool/pool.ts";

/** Subscribes `pool`'s events to logs and metrics; returns the unsubscribe function. */
export function watchPool(pool: Pool, metrics: LbMetrics, log: Logger): () => void {
  const name = pool.name;
  const offFlip = pool.onFlip(({ backend, up, reason }) => {
    metrics.healthTransitions.labels(name, backend.id, up ? "up" : "down").inc();
    const props = { pool: name, backend: backend.id, reason };
    if (up) log.info("{pool}/{backend} is up ({reason})", props);
    else log.warning("{pool}/{backend} is down ({reason})", props);
  });
  const offEjection = pool.onEjection(({ backend, ejected, reason }) => {
    const props = { pool: name, backend: backend.id, reason };
    if (ejected) {
      metrics.ejections.labels(name, backend.id).inc();
      log.warning("{pool}/{backend} ejected ({reason})", props);
    } else {
      log.info("{pool}/{backend} back from ejection", props);
    }
  });
  const offLeavers = forgetLeavers(pool, metrics);
  const offMembership = pool.onMembership(({ backend, kind }) => {
    if (kind !== "removed") return;
    log.info("{pool}/{backend} left the pool", { pool: name, backend: backend.id });
  });
  return () => {
    offFlip();
    offEjection();
    offLeavers();
    offMembership();
  };
}

/**
 * Drops a backend's gauges when it leaves `pool`: one that left must not
 * keep reporting its last state. All a worker's copy of a pool reports; the
 * main thread logs and counts the flips.
 */
export function forgetLeavers(pool: Pool, metrics: LbMetrics): () => void {
  return pool.onMembership(({ backend, kind }) => {
    if (kind !== "removed") return;
    for (const g of [metrics.backendUp, metrics.backendInFlight, metrics.backendEjected]) {
      g.remove(pool.name, backend.id);
    }
    metrics.backendWeight.remove(pool.name, backend.id);
  });
}

/** Sets the per-backend gauges of every pool; called before each scrape. */
export function setBackendGauges(pools: readonly Pool[], metrics: LbMetrics): void {
  for (const pool of pools) {
    for (const b of pool.backends) {
      metrics.backendUp.labels(pool.name, b.id).set(b.up ? 1 : 0);
      metrics.backendInFlight.labels(pool.name, b.id).set(b.inFlight);
      metrics.backendEjected.labels(pool.name, b.id).set(b.ejected ? 1 : 0);
      metrics.backendWeight.labels(pool.name, b.id).set(b.effectiveWeight);
    }
  }
}
