/**
 * Assembles a running load balancer from a config: the pools' runtime, one
 * proxy-core generation, the traffic and admin listeners, and the shutdown
 * sequence. Every dependency (clock, randomness, transports, prober, hooks)
 * can be injected, and {@link LoadBalancer.handle} runs a request through
 * the whole lb in-process, without the traffic listener.
 *
 * @module
 */

import { createAdminHandler } from "../admin/handler.ts";
import { restartNeeded } from "../config/reload.ts";
import type { LbConfig, PoolConfig } from "../config/types.ts";
import { log as defaultLog, type Logger } from "../core/logging.ts";
import type { Transport } from "../core/transport.ts";
import type { Prober } from "../health/tcp_probe.ts";
import { createLbMetrics, type LbMetrics } from "../metrics/lb_metrics.ts";
import { denoServeHandler } from "../front/deno_serve.ts";
import type { ProxyCore } from "../proxy/handler.ts";
import type { LbHooks } from "../proxy/hooks.ts";
import { Mirror } from "../proxy/mirror.ts";
import { TunnelSet } from "../proxy/websocket.ts";
import { buildCore } from "./generation.ts";
import { serveTraffic } from "./listeners.ts";
import { setBackendGauges } from "./pool_events.ts";
import { PoolSet } from "./pools.ts";
import { runShutdown } from "./shutdown.ts";
import { shutdownWithin } from "./signals.ts";
import { CertificateReloader } from "./certificates.ts";
import { VERSION } from "../core/version.ts";

/** What can be injected; each part has a production default. */
export interface LbOptions {
  /** The health probe of every pool (default: TCP, or HTTP with `health-path`). */
  readonly probe?: Prober;
  /** Builds each pool's transport (default: by its `transport` name). */
  readonly transport?: (pool: PoolConfig) => Transport;
  /** The hooks of the library API. */
  readonly hooks?: LbHooks;
  /** Uniform in [0, 1), for the strategies; `Math.random` by default. */
  readonly random?: () => number;
  /** Monotonic milliseconds, for the proxy core; `performance.now` by default. */
  readonly now?: () => number;
  /** Bind the traffic listener (default true); without it only {@link LoadBalancer.handle} serves. */
  readonly listen?: boolean;
}

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

/** Starts everything; both listeners are bound when it returns. */
export function startLoadBalancer(config: LbConfig, deps: LbDeps = {}): RunningLb {
  const log = deps.log ?? defaultLog;
  const logger = log("lb");
  const metrics = createLbMetrics();
  const pools = new PoolSet(config.pools, {
    metrics,
    log,
    probe: deps.probe,
    transport: deps.transport,
    now: Date.now,
  });
  metrics.registry.beforeRender(() => setBackendGauges(pools.all.map((r) => r.pool), metrics));
  for (const warning of strategyWarnings(config)) logger.warning(warning);
  const now = deps.now ?? (() => performance.now());
  const mirror = new Mirror(config.mirrorMaxInFlight, metrics, log("lb", "mirror"), now);
  const certificates = new CertificateReloader(config.tls, logger);
  const newCore = (cfg: LbConfig) =>
    buildCore(cfg, {
      pools,
      metrics,
      log,
      mirror,
      hooks: deps.hooks,
      random: deps.random ?? Math.random,
      now: deps.now,
      proto: certificates.pem ? "https" : "http",
    });
  // One generation serves each request from start to end: a reload swaps
  // in a new core, and requests in flight finish with the one they began on.
  let current = config;
  let core: ProxyCore = newCore(config);
  // One set across generations, so shutdown can drain every tunnel.
  const tunnels = new TunnelSet();
  const listenerDeps = { config, core: () => core, metrics, log, tunnels };
  const server = deps.listen === false ? undefined : certificates.bind(
    (port, pem, reusePort) => serveTraffic(listenerDeps, port, pem, reusePort),
    config.port,
  );
  let shuttingDown = false;
  const admin = Deno.serve(
    { hostname: config.adminHost, port: config.adminPort, onListen: () => {} },
    createAdminHandler({
      pools: () => pools.all.map((r) => ({ pool: r.pool, config: r.config })),
      routes: () => current.routes,
      metrics,
      shuttingDown: () => shuttingDown,
      startedAt: Date.now(),
      version: VERSION,
      token: config.adminToken,
    }),
  );
  // In-process requests go through the Deno.serve front's adapter.
  const inProcess = denoServeHandler({
    core: () => core,
    proto: "http",
    websocket: { metrics, log: log("lb", "websocket"), config: config.websocket, tunnels },
  });

  let shutdownPromise: Promise<boolean> | undefined;
  return {
    addr: server?.listener.addr,
    adminAddr: admin.addr,
    pools,
    metrics,
    get config() {
      return current;
    },
    handle: (request, clientIp = "127.0.0.1") => handleInProcess(inProcess, request, clientIp),
    async reconfigure(next) {
      const restart = restartNeeded(current, next);
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
    shutdown: () =>
      shutdownPromise ??= runShutdown({
        config: current,
        log: logger,
        metrics,
        tunnels,
        mirror,
        begin: () => shuttingDown = true,
        closeListeners: (ms) => server?.shutdown(ms) ?? Promise.resolve(true),
        closeRest: async () => {
          await pools.close();
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

/**
 * Runs `request` through the `Deno.serve` adapter with no socket: the
 * response counts as delivered once its body has been read to the end (or
 * cancelled), which frees its backend and writes its access-log record.
 */
async function handleInProcess(
  serve: (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>,
  request: Request,
  clientIp: string,
): Promise<Response> {
  // A `Request` built in code has no Host field; its URL's authority stands for it.
  if (!request.headers.has("host")) {
    const headers = new Headers(request.headers);
    headers.set("host", new URL(request.url).host);
    request = new Request(request, { headers });
  }
  let delivered!: () => void;
  const completed = new Promise<void>((resolve) => delivered = resolve);
  const res = await serve(request, {
    remoteAddr: { transport: "tcp", hostname: clientIp, port: 0 },
    completed,
  });
  if (res.body === null || res.status === 101) {
    delivered();
    return res;
  }
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({ flush: delivered, cancel: delivered }),
  );
  return new Response(body, { status: res.status, headers: res.headers });
}
