/**
 * The part of the lb that serves traffic: the pools' runtime, the proxy
 * core of the generation in force, the traffic listener and the drain on
 * shutdown. The single-threaded lb runs one (with its admin listener
 * beside it); with `--workers`, every worker thread runs one whose pools
 * are copies that follow the main thread's health view (`replica`), and the
 * main thread runs one without a listener for in-process requests.
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import { denoServeHandler } from "../front/deno_serve.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { ProxyCore } from "../proxy/handler.ts";
import { Mirror } from "../proxy/mirror.ts";
import { createAccessLog } from "../policy/access_log.ts";
import { PolicyRuntime } from "../policy/runtime.ts";
import { TunnelSet } from "../proxy/websocket.ts";
import { CertificateReloader } from "./certificates.ts";
import { buildCore } from "./generation.ts";
import { serveTraffic } from "./listeners.ts";
import { handleInProcess } from "./in_process.ts";
import type { LbOptions } from "./lb_options.ts";
import { setBackendGauges } from "./pool_events.ts";
import { PoolSet } from "./pools.ts";
import { runShutdown } from "./shutdown.ts";

/** What a {@link Traffic} is built with. */
export interface TrafficDeps extends LbOptions {
  readonly log: (...category: string[]) => Logger;
  readonly metrics: LbMetrics;
  /** Pools that follow another thread's health checks and discovery instead of running their own. */
  readonly replica?: boolean;
  /** Share the traffic port with other threads (`reusePort`). */
  readonly sharePort?: boolean;
  /** Threads serving traffic, which split `--max-client-connections` and `--upstream-connections` (1 by default). */
  readonly sharers?: number;
}

/** What a {@link Traffic}'s shutdown does besides its own part. */
export interface TrafficShutdown {
  /** Marks the lb as shutting down (readiness fails). */
  readonly begin?: () => void;
  /** Drains other threads' listeners with this one's (worker threads), up to `timeoutMs`. */
  readonly drainPeers?: (timeoutMs: number) => Promise<boolean>;
  /** Stops what lies beside the traffic part (the admin listener). */
  readonly closeRest?: () => Promise<void>;
  /** The delay and timeout, when not the configured ones. */
  readonly timing?: Partial<Pick<LbConfig, "shutdownDelayMs" | "shutdownTimeoutMs">>;
}

/** One thread's serving part. */
export interface Traffic {
  /** The traffic listener's address; undefined without a listener. */
  readonly addr: Deno.NetAddr | undefined;
  readonly pools: PoolSet;
  /** The configuration in force. */
  readonly config: LbConfig;
  /** Runs a request through the whole lb in-process. */
  handle(request: Request, clientIp?: string): Promise<Response>;
  /** Applies a new generation; returns the settings that need a restart. */
  reconfigure(next: LbConfig, shuttingDown: boolean): Promise<string[]>;
  /** Runs the shutdown sequence (`shutdown.ts`); true when everything in flight finished. */
  shutdown(steps: TrafficShutdown): Promise<boolean>;
  /** Reopens the access-log file (SIGUSR1, after logrotate renamed it). */
  reopenLogs(): Promise<void>;
}

/** Starts the pools and, unless `listen` is false, binds the traffic listener. */
export function startTraffic(config: LbConfig, deps: TrafficDeps): Traffic {
  const { log, metrics } = deps;
  const logger = log("lb");
  const pools = new PoolSet(config.pools, {
    metrics,
    log,
    probe: deps.probe,
    transport: deps.transport,
    now: Date.now,
    replica: deps.replica,
    sharers: deps.sharers,
  });
  metrics.registry.beforeRender(() => setBackendGauges(pools.all.map((r) => r.pool), metrics));
  const now = deps.now ?? (() => performance.now());
  const mirror = new Mirror(config.mirrorMaxInFlight, metrics, log("lb", "mirror"), now);
  // Outlives generations: Redis connections, exporters, bucket tables kept across reloads.
  const policies = new PolicyRuntime({
    metrics,
    log: log("lb", "policy"),
    now,
    random: deps.random,
  });
  // Made once: the access-log options need a restart, so every generation writes to this one.
  const accessLog = config.accessLog
    ? createAccessLog(config.accessLogOutput, {
      metrics,
      accessLogger: log("lb", "access"),
      log: logger,
    })
    : undefined;
  const certificates = new CertificateReloader(config.tls, logger);
  const newCore = (cfg: LbConfig) =>
    policies.generation(() =>
      buildCore(cfg, {
        pools,
        metrics,
        log,
        mirror,
        policies: policies.deps,
        accessLog,
        hooks: deps.hooks,
        random: deps.random ?? Math.random,
        now: deps.now,
        proto: certificates.pem ? "https" : "http",
      }), cfg.shutdownTimeoutMs);
  // One generation serves each request from start to end: a reload swaps
  // in a new core, and requests in flight finish with the one they began on.
  let current = config;
  let core: ProxyCore = newCore(config);
  // One set across generations, so shutdown can drain every tunnel.
  const tunnels = new TunnelSet();
  const listenerDeps = {
    config,
    core: () => core,
    metrics,
    log,
    tunnels,
    sharers: deps.sharers ?? 1,
  };
  const server = deps.listen === false ? undefined : certificates.bind(
    (port, pem, reusePort) => serveTraffic(listenerDeps, port, pem, reusePort),
    config.port,
    deps.sharePort,
  );
  // In-process requests go through the Deno.serve front's adapter.
  const inProcess = denoServeHandler({
    core: () => core,
    proto: "http",
    websocket: { metrics, log: log("lb", "websocket"), config: config.websocket, tunnels },
  });
  return {
    addr: server?.listener.addr,
    pools,
    get config() {
      return current;
    },
    handle: (request, clientIp = "127.0.0.1") => handleInProcess(inProcess, request, clientIp),
    async reconfigure(next, shuttingDown) {
      const restart: string[] = [];
      // First, so an unreadable or invalid certificate rejects the whole reload.
      if (
        server && !(await certificates.reload(next.tls, shuttingDown, current.shutdownTimeoutMs))
      ) {
        restart.push("tls-cert");
      }
      await pools.apply(next.pools, current.shutdownTimeoutMs);
      core = newCore(next);
      current = next;
      return restart;
    },
    shutdown: (steps) =>
      runShutdown({
        config: { ...current, ...steps.timing },
        log: logger,
        metrics,
        tunnels,
        mirror,
        begin: () => steps.begin?.(),
        closeListeners: async (ms) => {
          const [own, peers] = await Promise.all([
            server?.shutdown(ms) ?? true,
            steps.drainPeers?.(ms) ?? true,
          ]);
          return own && peers;
        },
        closeRest: async () => {
          await pools.close();
          await policies.close();
          await accessLog?.close();
          await steps.closeRest?.();
        },
      }),
    reopenLogs: () => accessLog?.reopen() ?? Promise.resolve(),
  };
}
