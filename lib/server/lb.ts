/**
 * Assembles a running load balancer from a config: the serving part
 * (`traffic.ts`: pools, proxy core, traffic listener), the admin listener,
 * and with `--workers` the worker threads (`supervisor.ts`), which then
 * take the traffic listener while this thread keeps health checks,
 * discovery, reloads, the admin listener and the pools' shared state. Every dependency (clock, randomness, transports, prober, hooks)
 * can be injected, and {@link LoadBalancer.handle} runs a request through
 * the whole lb in-process, without the traffic listener.
 *
 * @module
 */

import { createAdminHandler } from "../admin/handler.ts";
import type { TrafficReport } from "../admin/types.ts";
import { UsageError } from "../config/cli.ts";
import { restartNeeded } from "../config/reload.ts";
import type { LbConfig } from "../config/types.ts";
import { log as defaultLog, type Logger } from "../core/logging.ts";
import { VERSION } from "../core/version.ts";
import { createLbMetrics, type LbMetrics } from "../metrics/lb_metrics.ts";
import type { Pool } from "../pool/pool.ts";
import { applyReport, exportMembers } from "../pool/replica.ts";
import type { LbOptions } from "./lb_options.ts";
import type { PoolSet } from "./pools.ts";
import { shutdownWithin } from "./signals.ts";
import { Supervisor } from "./supervisor.ts";
import { singleThreadReport, sumStats, threadStats } from "./thread_stats.ts";
import { startTraffic } from "./traffic.ts";
import type { PoolMembers } from "./worker_messages.ts";

export type { LbOptions };

/** {@link LbOptions} plus what only the lb's own program and tests inject. */
export interface LbDeps extends LbOptions {
  /** Loggers by category; `core/logging.ts`'s by default. */
  readonly log?: (...category: string[]) => Logger;
}

/** A running load balancer. */
export interface LoadBalancer {
  /** The traffic listener's address; undefined with `listen: false`. */
  readonly addr: Deno.NetAddr | undefined;
  /** The admin listener's address (`/metrics`, `/status`, the admin API). */
  readonly adminAddr: Deno.NetAddr;
  /**
   * Resolves once traffic is served: at once on one thread; with
   * `workers`, when every worker listens (rejects if one can't start).
   */
  readonly ready: Promise<void>;
  /** The configuration in force. */
  readonly config: LbConfig;
  /**
   * Runs a request through the whole lb (routes, pools, hooks, retries) as
   * if it had come in on the traffic listener from `clientIp`.
   */
  handle(request: Request, clientIp?: string): Promise<Response>;
  /**
   * Applies a new configuration atomically: pools that stay keep their
   * backends' health, counters and connections; routes, strategies, retries
   * and limits change for new requests; requests in flight finish on the
   * generation they started with. Returns the settings that changed but
   * need a restart.
   */
  reconfigure(next: LbConfig): Promise<string[]>;
  /**
   * Runs the shutdown sequence: readiness fails, traffic is still served for
   * `shutdownDelayMs`, the listener closes and in-flight requests get
   * `shutdownTimeoutMs` to finish. Resolves true when they all did.
   */
  shutdown(): Promise<boolean>;
}

/** A running load balancer with its internals, for the lb's own program and tests. */
export interface RunningLb extends LoadBalancer {
  /** The pools' runtime (backend state, transports, health checks). */
  readonly pools: PoolSet;
  readonly metrics: LbMetrics;
}

/** Starts everything; both listeners are bound (or, with workers, binding) when it returns. */
export function startLoadBalancer(config: LbConfig, deps: LbDeps = {}): RunningLb {
  const log = deps.log ?? defaultLog;
  const logger = log("lb");
  const metrics = createLbMetrics();
  for (const warning of strategyWarnings(config)) logger.warning(warning);
  const workers = deps.listen === false ? 1 : workerCount(config, deps);
  // With a free port asked for, one is reserved here so every worker binds
  // the same one; it never accepts, and closes once the workers serve.
  const reservation = workers > 1 && config.port === 0
    ? Deno.listen({ hostname: config.host, port: 0, reusePort: true })
    : undefined;
  const port = reservation?.addr.port ?? config.port;
  let reserved = reservation !== undefined;
  const release = () => {
    if (reserved) reservation!.close();
    reserved = false;
  };
  // What workers are told: the port chosen, and `auto` resolved.
  const withPort = (c: LbConfig): LbConfig => ({ ...c, port, workers });
  const traffic = startTraffic(config, {
    ...deps,
    log,
    metrics,
    listen: workers > 1 ? false : deps.listen,
  });
  const pools = traffic.pools;
  const supervisor = workers > 1
    ? new Supervisor({
      count: workers,
      config: () => withPort(traffic.config),
      members: () => poolMembers(pools),
      onReport: (pool, report) => {
        const runtime = pools.get(pool);
        if (runtime) applyReport(runtime.pool, report, Date.now());
      },
      metrics,
      log: log("lb", "workers"),
    })
    : undefined;
  const stopPublishing = supervisor && publishChanges(pools, supervisor);
  const ready = supervisor?.start().finally(release) ?? Promise.resolve();
  ready.catch(() => {});
  const startedAt = Date.now();
  let shuttingDown = false;
  const own = () => pools.all.map((r) => r.pool);
  const report = async (): Promise<TrafficReport> => {
    if (!supervisor) return singleThreadReport(own(), metrics, startedAt);
    const stats = await supervisor.collect();
    return sumStats(threadStats(own(), metrics), stats, supervisor.views);
  };
  const admin = Deno.serve(
    { hostname: config.adminHost, port: config.adminPort, onListen: () => {} },
    createAdminHandler({
      pools: () => pools.all.map((r) => ({ pool: r.pool, config: r.config })),
      routes: () => traffic.config.routes,
      report,
      workers: supervisor,
      shuttingDown: () => shuttingDown,
      startedAt,
      version: VERSION,
      token: config.adminToken,
    }),
  );

  let shutdownPromise: Promise<boolean> | undefined;
  return {
    addr: traffic.addr ??
      (workers > 1 ? { transport: "tcp", hostname: config.host, port } : undefined),
    adminAddr: admin.addr,
    ready,
    pools,
    metrics,
    get config() {
      return traffic.config;
    },
    handle: (request, clientIp) => traffic.handle(request, clientIp),
    async reconfigure(next) {
      const restart = new Set(restartNeeded(traffic.config, next));
      for (const r of await traffic.reconfigure(next, shuttingDown)) restart.add(r);
      if (supervisor) {
        const more = await supervisor.reconfigure(withPort(next), poolMembers(pools));
        for (const r of more) restart.add(r);
      }
      return [...restart];
    },
    shutdown: () =>
      shutdownPromise ??= traffic.shutdown({
        begin: () => shuttingDown = true,
        drainPeers: (ms) => supervisor?.shutdown(ms) ?? Promise.resolve(true),
        closeRest: async () => {
          stopPublishing?.();
          release();
          await shutdownWithin(admin, 1000);
        },
      }),
  };
}

/**
 * How many worker threads `config` asks for (`auto`: the CPUs this process
 * may use). Several need `reusePort` (Linux, `--unstable-net`) and can't
 * take what runs on the request path from the library (hooks, transports,
 * randomness, clocks), which can't be sent to another thread.
 */
function workerCount(config: LbConfig, deps: LbDeps): number {
  const n = config.workers === 0 ? navigator.hardwareConcurrency : config.workers;
  if (n <= 1) return 1;
  // Asking for reusePort without --unstable-net exits the process, so the
  // flag is detected by an API it alone enables.
  if (Deno.build.os !== "linux" || !("listenDatagram" in Deno)) {
    throw new UsageError([
      `--workers: ${n} workers share the traffic port with reusePort, which needs Linux ` +
      "and Deno's --unstable-net (deno.json sets it for `deno task lb`); use --workers 1",
    ]);
  }
  const local = (["hooks", "transport", "random", "now"] as const).filter((k) => deps[k]);
  if (local.length > 0) {
    throw new UsageError([
      `--workers: ${local.join(", ")} run on the request path and can't be sent to worker ` +
      "threads; use workers: 1 with them",
    ]);
  }
  return n;
}

/** Every pool's shared state, for the workers. */
function poolMembers(pools: PoolSet): PoolMembers {
  return Object.fromEntries(pools.all.map((r) => [r.pool.name, exportMembers(r.pool)]));
}

/**
 * Sends the workers the pools' shared state whenever it changes, at most
 * once per turn of the event loop however many backends changed in it.
 * Pools added by a reload are watched from the next publish on.
 */
function publishChanges(pools: PoolSet, supervisor: Supervisor): () => void {
  const watched = new Map<Pool, () => void>();
  let queued = false;
  const publish = () => {
    queued = false;
    watch();
    supervisor.publish(poolMembers(pools));
  };
  const changed = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(publish);
  };
  const watch = () => {
    for (const { pool } of pools.all) {
      if (!watched.has(pool)) watched.set(pool, pool.onChange(changed));
    }
  };
  watch();
  return () => {
    for (const off of watched.values()) off();
  };
}

/** Warnings about a configuration that runs but may not do what was meant. */
function strategyWarnings(config: LbConfig): string[] {
  return config.pools
    .filter((p) => p.strategy === "sticky-cookie" && p.balancing.stickySecretGenerated)
    .map((p) =>
      `pool ${p.name}: sticky cookies are signed with a random secret; set --sticky-secret ` +
      "(or STICKY_SECRET) so replicas and restarts agree"
    );
}
