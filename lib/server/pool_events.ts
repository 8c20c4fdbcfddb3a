/**
 * What a pool's events become outside it: log lines and metrics for health
 * flips, ejections and backends leaving, each labelled with the pool; and
 * entries in the dashboard's event list.
 *
 * @module
 */

import type { EventLog } from "../admin/event_log.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Backend, Pool } from "../pool/pool.ts";

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

/**
 * Records `pool`'s events in the dashboard's {@link EventLog}: health
 * flips, ejections (those workers report too, since they are applied to
 * this thread's pool), backends joining, draining and leaving, and
 * maintenance and weight changes (from the admin API or a reload), which
 * the pool reports only as "something changed", so they are found by
 * comparing each backend with what it was. Returns the unsubscribe function.
 */
export function recordPoolEvents(pool: Pool, events: EventLog): () => void {
  const name = pool.name;
  const seen = new Map<Backend, { maintenance: boolean; weight: number }>();
  const remember = (b: Backend) => seen.set(b, { maintenance: b.maintenance, weight: b.weight });
  for (const b of pool.backends) remember(b);
  const offs = [
    pool.onFlip(({ backend, up, reason }) => {
      events.add({ kind: up ? "up" : "down", pool: name, backend: backend.id, detail: reason });
    }),
    pool.onEjection(({ backend, ejected, reason }) => {
      const kind = ejected ? "ejected" : "ejection-ended";
      events.add({ kind, pool: name, backend: backend.id, detail: reason });
    }),
    pool.onMembership(({ backend, kind }) => {
      if (kind === "removed") seen.delete(backend);
      else remember(backend);
      const detail = kind === "removed" ? "left the pool" : backend.reason;
      events.add({ kind, pool: name, backend: backend.id, detail });
    }),
    pool.onChange(() => {
      for (const b of pool.backends) {
        const was = seen.get(b);
        if (!was) continue;
        if (was.maintenance !== b.maintenance) {
          const kind = b.maintenance ? "maintenance-on" : "maintenance-off";
          events.add({ kind, pool: name, backend: b.id, detail: b.reason });
        }
        if (was.weight !== b.weight) {
          const detail = `weight ${was.weight} \u2192 ${b.weight}`;
          events.add({ kind: "weight", pool: name, backend: b.id, detail });
        }
        remember(b);
      }
    }),
  ];
  return () => offs.forEach((off) => off());
}

/**
 * Keeps {@link recordPoolEvents} on every pool of a set that changes with
 * reloads: {@link PoolEventRecorder.sync} after each one subscribes new
 * pools and unsubscribes removed ones.
 */
export class PoolEventRecorder {
  readonly #events: EventLog;
  readonly #watched = new Map<Pool, () => void>();

  constructor(events: EventLog) {
    this.#events = events;
  }

  /** Records the events of exactly `pools` from now on. */
  sync(pools: readonly Pool[]): void {
    const current = new Set(pools);
    for (const [pool, off] of this.#watched) {
      if (current.has(pool)) continue;
      off();
      this.#watched.delete(pool);
    }
    for (const pool of current) {
      if (!this.#watched.has(pool)) this.#watched.set(pool, recordPoolEvents(pool, this.#events));
    }
  }

  /** Stops recording. */
  stop(): void {
    for (const off of this.#watched.values()) off();
    this.#watched.clear();
  }
}
