/**
 * Pools from the option values: without `pools` in the file, one pool
 * called `default` from flags, environment, file and defaults (exactly the
 * single-pool lb of before); with `pools`, one per entry, each option from
 * the pool's own key, else the layers every pool inherits. Backends are a
 * pool's own business then: a process-wide `--backends` or `--discover`
 * would be ambiguous, so it is refused.
 *
 * @module
 */

import { NO_BACKENDS } from "./backends.ts";
import type { Problems } from "./cli.ts";
import type { FilePool } from "./file.ts";
import { splitList } from "./kinds.ts";
import { optionSpec } from "./options.ts";
import type { BalancingConfig, HealthConfig, PoolConfig } from "./types.ts";
import { fileWhere, type Layers, OptionReader } from "./values.ts";

/** The pools, and each one's effective option values (see `LbConfig.settings`). */
export interface Pools {
  /** In config order. */
  readonly pools: PoolConfig[];
  /** Pool name -> option name -> canonical text. */
  readonly settings: Record<string, Record<string, string>>;
}

/** The name of the single pool of a config without `pools`. */
export const DEFAULT_POOL = "default";

/**
 * Builds every pool. `secret` is the process's generated sticky secret,
 * used by each pool that has none configured.
 */
export function buildPools(p: Problems, layers: Layers, secret: string): Pools {
  const file = layers.file;
  if (!file?.pools) {
    const r = new OptionReader(p, layers);
    const pool = buildPool(r, DEFAULT_POOL, file?.metadata ?? {}, secret);
    if (splitList(r.raw("backends")).length === 0 && pool.discovery.targets.length === 0) {
      p.at(r.where("backends"), NO_BACKENDS);
    }
    return { pools: [pool], settings: { [DEFAULT_POOL]: r.settings("pool") } };
  }
  refuseSharedBackends(p, layers, file.path);
  const pools: PoolConfig[] = [];
  const settings: Record<string, Record<string, string>> = {};
  for (const entry of file.pools) {
    const r = new OptionReader(p, layers, entry);
    const pool = buildPool(r, entry.name, entry.metadata, secret);
    if (!hasOwnBackends(r, entry)) {
      p.at(fileWhere(file.path, `pools.${entry.name}`), "needs backends or discover");
    }
    pools.push(pool);
    settings[entry.name] = r.settings("pool");
  }
  return { pools, settings };
}

/** One pool from its reader; `metadata` (by origin) is attached to matching backends. */
function buildPool(
  r: OptionReader,
  name: string,
  metadata: FilePool["metadata"],
  secret: string,
): PoolConfig {
  return {
    name,
    backends: r.get("backends").map((b) =>
      metadata[b.origin] ? { ...b, metadata: metadata[b.origin] } : b
    ),
    strategy: r.get("strategy"),
    transport: r.get("transport"),
    health: health(r),
    connectTimeoutMs: r.get("connect-timeout"),
    responseTimeoutMs: r.get("response-timeout"),
    idleTimeoutMs: r.get("idle-timeout"),
    retries: r.get("retries"),
    balancing: balancing(r, secret),
    outlier: {
      consecutiveErrors: r.get("eject-after"),
      on5xx: r.get("eject-on-5xx"),
      baseEjectionMs: r.get("eject-time"),
      maxEjectionPercent: r.get("max-ejection-percent"),
    },
    retry: {
      budgetPercent: r.get("retry-budget"),
      budgetMinPerSecond: r.get("retry-budget-min"),
      tryTimeoutMs: r.get("try-timeout"),
      bufferBytes: r.get("retry-buffer"),
    },
    limits: {
      maxPerBackend: r.get("max-connections-per-backend"),
      queueTimeoutMs: r.get("queue-timeout"),
      upstreamConnections: r.get("upstream-connections"),
    },
    discovery: {
      targets: r.get("discover"),
      // Re-resolving more often than every second only loads the resolver.
      intervalMs: Math.max(1000, r.get("discover-interval")),
      dnsServer: r.get("dns-server"),
    },
    backendCaFile: r.get("backend-ca") || undefined,
  };
}

function health(r: OptionReader): HealthConfig {
  const path = r.get("health-path");
  // Read even without a path, so a bad status is reported rather than waiting to bite.
  const status = r.get("health-status");
  const host = r.get("health-host");
  return {
    intervalMs: r.get("health-interval"),
    timeoutMs: r.get("health-timeout"),
    rise: r.get("health-rise"),
    fall: r.get("health-fall"),
    downIntervalMs: r.get("health-down-interval"),
    http: path === ""
      ? undefined
      : { path, host: host || undefined, statusMin: status.min, statusMax: status.max },
  };
}

function balancing(r: OptionReader, secret: string): BalancingConfig {
  const configured = r.get("sticky-secret");
  return {
    hashKey: r.get("hash-key"),
    stickyCookieName: r.get("sticky-cookie"),
    stickySecret: configured || secret,
    stickySecretGenerated: configured === "",
    ewmaDecayMs: r.get("ewma-decay"),
    slowStartMs: r.get("slow-start"),
  };
}

/** Whether a named pool lists backends or discovery targets of its own. */
function hasOwnBackends(r: OptionReader, entry: FilePool): boolean {
  const own = (key: "backends" | "discover") =>
    entry.values[key] !== undefined && splitList(r.raw(key)).length > 0;
  return own("backends") || own("discover");
}

/** With `pools`, backends given for the whole process would belong to no pool in particular. */
function refuseSharedBackends(p: Problems, layers: Layers, path: string): void {
  const why = "the config file defines pools; give each pool its backends";
  for (const name of ["backends", "discover"] as const) {
    if (layers.flags[name] !== undefined) p.add(name, why);
    const env = optionSpec(name).env;
    if (env !== undefined && layers.env[env]) p.add(name, `${env} is set, but ${why}`);
    if (layers.file?.values[name] !== undefined) p.at(fileWhere(path, name), why);
  }
}
