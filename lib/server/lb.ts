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

import { EventLog } from "../admin/event_log.ts";
import { createAdminHandler } from "../admin/handler.ts";
import { restartNeeded } from "../config/reload.ts";
import type { LbConfig } from "../config/types.ts";
import { log as defaultLog, type Logger } from "../core/logging.ts";
import { VERSION } from "../core/version.ts";
import { createLbMetrics, type LbMetrics } from "../metrics/lb_metrics.ts";
import type { LbOptions } from "./lb_options.ts";
import { PoolEventRecorder } from "./pool_events.ts";
import type { PoolSet } from "./pools.ts";
import { shutdownWithin } from "./signals.ts";
import { singleThreadReport } from "./thread_stats.ts";
import { startTraffic } from "./traffic.ts";
import { startWorkers, workerCount } from "./workers.ts";

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
  /**
   * Reopens the access-log file (`--access-log-file`) in this thread and
   * tells every worker to, for logrotate: `lb` calls it on SIGUSR1.
   */
  reopenLogs(): Promise<void>;
}

/** A running load balancer with its internals, for the lb's own program and tests. */
export interface RunningLb extends LoadBalancer {
  /** The pools' runtime (backend state, transports, health checks). */
  readonly pools: PoolSet;
  readonly metrics: LbMetrics;
  /** The dashboard's recent events (health flips, ejections, membership, reloads). */
  readonly events: EventLog;
}

/**
 * How often the dashboard's history is sampled while no page is open, so
 * one opened later shows the last minutes; one sample is one admin report
 * (each worker asked once), measured in docs/dashboard.md.
 */
const IDLE_SAMPLE_MS = 5000;

/** Starts everything; both listeners are bound (or, with workers, binding) when it returns. */
export function startLoadBalancer(config: LbConfig, deps: LbDeps = {}): RunningLb {
  const log = deps.log ?? defaultLog;
  const metrics = createLbMetrics();
  for (const warning of strategyWarnings(config)) log("lb").warning(warning);
  const count = workerCount(config, deps);
  // With workers the main thread binds no traffic listener, but keeps a
  // core for in-process requests (`handle`).
  const traffic = startTraffic(config, {
    ...deps,
    log,
    metrics,
    listen: count > 1 ? false : deps.listen,
  });
  const pools = traffic.pools;
  const workers = count > 1
    ? startWorkers(config, count, {
      pools,
      config: () => traffic.config,
      metrics,
      log: log("lb", "workers"),
    })
    : undefined;
  const startedAt = Date.now();
  let shuttingDown = false;
  const events = new EventLog();
  const recorder = new PoolEventRecorder(events);
  recorder.sync(pools.all.map((r) => r.pool));
  const adminHandler = createAdminHandler({
    pools: () => pools.all.map((r) => ({ pool: r.pool, config: r.config })),
    routes: () => traffic.config.routes,
    report: () =>
      workers?.report() ??
        Promise.resolve(singleThreadReport(pools.all.map((r) => r.pool), metrics, startedAt)),
    workers: workers?.control,
    shuttingDown: () => shuttingDown,
    startedAt,
    version: VERSION,
    token: config.adminToken,
    events,
    idleSampleMs: IDLE_SAMPLE_MS,
  });
  const admin = Deno.serve(
    { hostname: config.adminHost, port: config.adminPort, onListen: () => {} },
    adminHandler,
  );

  let shutdownPromise: Promise<boolean> | undefined;
  return {
    addr: traffic.addr ?? workers?.addr,
    adminAddr: admin.addr,
    ready: workers?.ready ?? Promise.resolve(),
    pools,
    metrics,
    events,
    get config() {
      return traffic.config;
    },
    handle: (request, clientIp) => traffic.handle(request, clientIp),
    async reconfigure(next) {
      const restart = new Set(restartNeeded(traffic.config, next));
      for (const r of await traffic.reconfigure(next, shuttingDown)) restart.add(r);
      for (const r of await workers?.reconfigure(next) ?? []) restart.add(r);
      recorder.sync(pools.all.map((r) => r.pool));
      return [...restart];
    },
    reopenLogs() {
      workers?.reopenLogs();
      return traffic.reopenLogs();
    },
    shutdown: () =>
      shutdownPromise ??= traffic.shutdown({
        begin: () => shuttingDown = true,
        drainPeers: (ms) => workers?.drain(ms) ?? Promise.resolve(true),
        closeRest: async () => {
          workers?.close();
          // Open dashboard streams would hold the admin listener's shutdown.
          adminHandler.close();
          recorder.stop();
          await shutdownWithin(admin, 1000);
        },
      }),
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
