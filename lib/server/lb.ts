/**
 * Assembles a running load balancer from a config: pool, strategy,
 * transport, health checks, metrics, the traffic listener and the admin
 * listener, and the shutdown sequence that takes them down in order.
 *
 * @module
 */

import { createAdminHandler } from "../admin/handler.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import type { LbConfig } from "../config/types.ts";
import { DnsDiscovery } from "../discovery/dns.ts";
import { HealthChecker } from "../health/checker.ts";
import { httpProbe } from "../health/http_probe.ts";
import { type Prober, tcpProbe } from "../health/tcp_probe.ts";
import { log } from "../core/logging.ts";
import { createLbMetrics, type LbMetrics } from "../metrics/lb_metrics.ts";
import { Pool } from "../pool/pool.ts";
import { createProxy } from "../proxy/handler.ts";
import { denoServeHandler } from "../front/deno_serve.ts";
import { H1Front } from "../front/h1/server.ts";
import { defaultMaxClientConnections, openFileLimit } from "../front/file_limit.ts";
import { TunnelSet } from "../proxy/websocket.ts";
import { shutdownWithin } from "./signals.ts";
import { createStrategy } from "../balancing/mod.ts";
import {
  type ListenerPem,
  readBackendCaSync,
  readListenerPem,
  readListenerPemSync,
} from "./tls_files.ts";
import { createTransport } from "../transport/mod.ts";
import { VERSION } from "../core/version.ts";

/** Overrides for tests. */
export interface LbDeps {
  readonly probe?: Prober;
}

/** A running load balancer. */
export interface LoadBalancer {
  readonly addr: Deno.NetAddr;
  readonly adminAddr: Deno.NetAddr;
  readonly pool: Pool;
  readonly metrics: LbMetrics;
  /**
   * Runs the shutdown sequence: readiness fails, traffic is still served for
   * `shutdownDelayMs`, the listener closes and in-flight requests get
   * `shutdownTimeoutMs` to finish. Resolves true when they all did.
   */
  shutdown(): Promise<boolean>;
  /** The configuration in force. */
  readonly config: LbConfig;
  /**
   * Applies a new configuration atomically: backends that stay keep their
   * health, counters and pooled connections; new ones join after a passing
   * check; removed ones drain. Strategy, retries, limits and health checks
   * change for new requests. Returns the settings that changed but need a
   * restart (listeners, transport timeouts, logging).
   */
  reconfigure(next: LbConfig): Promise<string[]>;
  /** Sets the backends found by DNS discovery (added to the configured ones). */
  setDiscovered(specs: readonly BackendSpec[]): void;
}

/** Settings a running lb can't change; a reload reports them instead. */
const RESTART_ONLY = [
  "host",
  "port",
  "adminHost",
  "adminPort",
  "transport",
  "connectTimeoutMs",
  "idleTimeoutMs",
  "logLevel",
  "logFormat",
  "accessLog",
] as const;

/** The restart-only settings that differ between two configs (pure). */
export function needsRestart(a: LbConfig, b: LbConfig): string[] {
  const changed: string[] = RESTART_ONLY.filter((k) => a[k] !== b[k]);
  if (a.retry.tryTimeoutMs !== b.retry.tryTimeoutMs) changed.push("tryTimeoutMs");
  if (a.limits.upstreamConnections !== b.limits.upstreamConnections) {
    changed.push("upstreamConnections");
  }
  if (a.balancing.ewmaDecayMs !== b.balancing.ewmaDecayMs) changed.push("ewmaDecayMs");
  if (a.balancing.slowStartMs !== b.balancing.slowStartMs) changed.push("slowStartMs");
  // Turning TLS termination on or off changes the listener's protocol; new
  // certificate files (or contents) are applied by rebinding, see startLoadBalancer.
  if (!a.ops.tls.certFile !== !b.ops.tls.certFile) changed.push("tls");
  if (a.ops.tls.backendCaFile !== b.ops.tls.backendCaFile) changed.push("backendCaFile");
  if (JSON.stringify(a.front) !== JSON.stringify(b.front)) changed.push("front");
  return changed;
}

/** The traffic listener, whichever front serves it. */
interface TrafficListener {
  readonly addr: Deno.NetAddr;
  /** Stops accepting and drains; true when everything in flight finished within `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<boolean>;
}

/** Upstream sockets the transport may hold open: its per-backend cap times the backends. */
function upstreamSockets(config: LbConfig): number {
  const perBackend = config.limits.upstreamConnections || Infinity;
  return perBackend * Math.max(1, config.backends.length);
}

/** `--max-client-connections`, or its default from the file limit (logged, as it is derived). */
function maxClientConnections(config: LbConfig): number {
  if (config.front.maxClientConnections > 0) return config.front.maxClientConnections;
  const { limit, read } = openFileLimit();
  const max = defaultMaxClientConnections(limit, upstreamSockets(config));
  log("lb", "front").info(
    `at most ${max} client connections (open-file limit ${limit}${
      read ? "" : ", assumed: /proc/self/limits is not readable"
    }; set --max-client-connections to choose)`,
  );
  return max;
}

/** Starts everything and resolves once both listeners are bound. */
export function startLoadBalancer(config: LbConfig, deps: LbDeps = {}): LoadBalancer {
  const logger = log("lb");
  const metrics = createLbMetrics();
  const pool = new Pool(config.backends, config.health, Date.now(), {
    ewmaDecayMs: config.balancing.ewmaDecayMs,
    slowStartMs: config.balancing.slowStartMs,
  });
  const healthLog = log("lb", "health");
  pool.onFlip(({ backend, up, reason }) => {
    metrics.healthTransitions.labels(backend.id, up ? "up" : "down").inc();
    const props = { backend: backend.id, reason };
    if (up) healthLog.info("{backend} is up ({reason})", props);
    else healthLog.warning("{backend} is down ({reason})", props);
  });
  pool.onMembership(({ backend, kind }) => {
    if (kind !== "removed") return;
    // A backend that left must not keep reporting its last state.
    for (const g of [metrics.backendUp, metrics.backendInFlight, metrics.backendEjected]) {
      g.remove(backend.id);
    }
    metrics.backendWeight.remove(backend.id);
    healthLog.info("{backend} left the pool", { backend: backend.id });
  });
  pool.onEjection(({ backend, ejected, reason }) => {
    const props = { backend: backend.id, reason };
    if (ejected) healthLog.warning("{backend} ejected ({reason})", props);
    else healthLog.info("{backend} back from ejection", props);
  });
  metrics.registry.beforeRender(() => {
    for (const b of pool.backends) {
      metrics.backendUp.labels(b.id).set(b.up ? 1 : 0);
      metrics.backendInFlight.labels(b.id).set(b.inFlight);
      metrics.backendEjected.labels(b.id).set(b.ejected ? 1 : 0);
      metrics.backendWeight.labels(b.id).set(b.effectiveWeight);
    }
  });
  if (config.strategy === "sticky-cookie" && config.balancing.stickySecretGenerated) {
    logger.warning(
      "sticky cookies are signed with a random secret; set --sticky-secret (or STICKY_SECRET) " +
        "so replicas and restarts agree",
    );
  }

  const transport = createTransport(config.transport, {
    connectTimeoutMs: config.connectTimeoutMs,
    // Each attempt gets the per-try timeout; the proxy enforces the overall one.
    responseTimeoutMs: config.retry.tryTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    caCerts: readBackendCaSync(config.ops.tls),
    maxConnectionsPerBackend: config.limits.upstreamConnections,
  });
  /** The listener's certificate and key in use; undefined when serving plain HTTP. */
  let listenerPem: ListenerPem | undefined = readListenerPemSync(config.ops.tls);
  const newChecker = (cfg: LbConfig) =>
    new HealthChecker({
      pool,
      config: cfg.health,
      probe: deps.probe ??
        (cfg.health.http ? httpProbe(cfg.health.http, readBackendCaSync(cfg.ops.tls)) : tcpProbe),
      onProbe: (b, ok) => metrics.healthProbes.labels(b.id, ok ? "pass" : "fail").inc(),
    });
  // One set across handler generations, so shutdown can drain every tunnel.
  const tunnels = new TunnelSet();
  const newCore = (cfg: LbConfig) =>
    createProxy({
      pool,
      strategy: createStrategy(cfg.strategy, {
        random: Math.random,
        stickyCookieName: cfg.balancing.stickyCookieName,
        stickySecret: cfg.balancing.stickySecret,
      }),
      transport,
      metrics,
      log: log("lb", "proxy"),
      accessLog: cfg.accessLog ? log("lb", "access") : undefined,
      retries: cfg.retries,
      trustProxy: cfg.trustProxy,
      retryAfterSeconds: Math.max(1, Math.ceil(cfg.health.intervalMs / 1000)),
      responseTimeoutMs: cfg.responseTimeoutMs,
      retry: cfg.retry,
      outlier: cfg.outlier,
      limits: cfg.limits,
      hashKey: cfg.strategy === "consistent-hash" ? cfg.balancing.hashKey : undefined,
      readsCookies: cfg.strategy === "sticky-cookie",
      proto: listenerPem ? "https" : "http",
    });
  // One generation of settings serves each request from start to end: a
  // reload swaps in a new handler, and requests already in flight finish
  // with the one they started on.
  let current = config;
  let checker = newChecker(config);
  let core = newCore(config);
  const handler = denoServeHandler({
    core: () => core,
    proto: listenerPem ? "https" : "http",
    websocket: config.ops.websocket,
    connectTimeoutMs: config.connectTimeoutMs,
    tunnels,
  });
  /** Backends found by discovery, kept apart from configured ones. */
  let discovered: readonly BackendSpec[] = [];

  let shuttingDown = false;
  /**
   * Binds the traffic listener. With TLS, Deno.serve negotiates HTTP/2 or
   * HTTP/1.1 by ALPN itself. Deno.serve can't swap certificates in place, so
   * a TLS listener binds with `reusePort` (Linux, `--unstable-net`) and a
   * reload starts a second one on the same port, then drains the first.
   */
  const serveTraffic = (
    port: number,
    pem: ListenerPem | undefined,
    reusePort: boolean,
  ): TrafficListener => {
    if (!pem && config.front.name === "h1") {
      return new H1Front({
        hostname: config.host,
        port,
        core: () => core,
        timeouts: {
          headerMs: config.front.headerTimeoutMs,
          idleMs: config.front.idleTimeoutMs,
          bodyMs: config.front.bodyTimeoutMs,
        },
        maxConnections: maxClientConnections(config),
        proxyProtocolFrom: config.front.proxyProtocol ? config.trustProxy : undefined,
        tunnelIdleMs: config.ops.websocket.idleTimeoutMs,
        metrics,
        log: log("lb", "front"),
      });
    }
    const served = Deno.serve({
      hostname: config.host,
      port,
      reusePort,
      ...pem,
      onListen: () => {},
      onError: (err) => {
        logger.error("unhandled error in request handler: {error}", { error: String(err) });
        return new Response("Internal Server Error\n", { status: 500 });
      },
    }, (req, info) => handler(req, info));
    return { addr: served.addr, shutdown: (ms) => shutdownWithin(served, ms) };
  };
  // Asking for reusePort without --unstable-net exits the process instead of
  // throwing, so the flag is detected by an API it alone enables. Without it
  // the listener still serves; certificate changes then need a restart.
  const canRebind = listenerPem !== undefined && Deno.build.os === "linux" &&
    "listenDatagram" in Deno;
  if (listenerPem && !canRebind) {
    logger.warning("certificate reloads need a restart (reusePort needs Linux and --unstable-net)");
  }
  let server = serveTraffic(config.port, listenerPem, canRebind);
  /** Listeners replaced by a certificate reload, still draining. */
  const retiring = new Set<Promise<boolean>>();
  const admin = Deno.serve(
    {
      hostname: config.adminHost,
      port: config.adminPort,
      onListen: () => {},
    },
    createAdminHandler({
      pool,
      metrics,
      shuttingDown: () => shuttingDown,
      startedAt: Date.now(),
      version: VERSION,
      token: config.ops.adminToken,
    }),
  );
  checker.start();
  const discovery = config.ops.discovery.targets.length === 0 ? undefined : new DnsDiscovery({
    ...config.ops.discovery,
    onChange: (specs) => setDiscovered(specs),
    log: log("lb", "discovery"),
  });
  discovery?.start();

  let shutdownPromise: Promise<boolean> | undefined;
  async function runShutdown(): Promise<boolean> {
    shuttingDown = true;
    if (config.shutdownDelayMs > 0) {
      logger.info("readiness failing; serving for {delay}ms before closing", {
        delay: config.shutdownDelayMs,
      });
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    }
    // Deno's shutdown() closes upgraded sockets at once, so WebSocket tunnels
    // are drained first: they get up to the shutdown timeout (new upgrades are
    // refused meanwhile, plain requests still served), then close with 1001.
    const started = Date.now();
    if (tunnels.size > 0) {
      logger.info("waiting for {count} WebSocket tunnel(s) (up to {timeout}ms)", {
        count: tunnels.size,
        timeout: config.shutdownTimeoutMs,
      });
    }
    await tunnels.drain(config.shutdownTimeoutMs);
    const remaining = Math.max(1000, config.shutdownTimeoutMs - (Date.now() - started));
    logger.info("closing listener; draining in-flight requests (up to {timeout}ms)", {
      timeout: remaining,
    });
    const [drained] = await Promise.all([
      server.shutdown(remaining),
      ...retiring,
    ]);
    if (!drained) {
      logger.warning("{count} request(s) still in flight after the shutdown timeout", {
        count: metrics.inFlight.value,
      });
    }
    await discovery?.stop();
    await checker.stop();
    pool.close();
    await transport.close();
    await shutdownWithin(admin, 1000);
    return drained;
  }

  function setDiscovered(specs: readonly BackendSpec[]): void {
    discovered = specs;
    // Discovered addresses get traffic only after a passing health check.
    pool.update([...current.backends, ...discovered], { awaitCheck: true });
  }

  /** Applies a new configuration; see {@link LoadBalancer.reconfigure}. */
  async function reconfigure(next: LbConfig): Promise<string[]> {
    const restart = needsRestart(current, next);
    // First, so an unreadable or invalid certificate rejects the whole reload.
    if (!restart.includes("tls") && !(await reloadCertificate(next))) restart.push("tls-cert");
    pool.setHealthConfig(next.health);
    pool.update([...next.backends, ...discovered]);
    if (JSON.stringify(next.health) !== JSON.stringify(current.health)) {
      await checker.stop();
      checker = newChecker(next);
      checker.start();
    }
    core = newCore(next);
    current = next;
    return restart;
  }

  /**
   * Rebinds the TLS listener when the certificate or key (path or contents)
   * changed. Returns false when it changed but can't be applied without a
   * restart. Throws when the new files can't be read or used.
   */
  async function reloadCertificate(next: LbConfig): Promise<boolean> {
    const pem = await readListenerPem(next.ops.tls);
    if (!pem || !listenerPem || (pem.cert === listenerPem.cert && pem.key === listenerPem.key)) {
      return true;
    }
    if (!canRebind || shuttingDown) return false;
    // Throws (rejecting the reload, old listener untouched) on a bad certificate or key.
    const fresh = serveTraffic(server.addr.port, pem, true);
    const old = server;
    server = fresh;
    listenerPem = pem;
    // The kernel now spreads new connections over both sockets until the old
    // one stops accepting; its in-flight requests finish on the old certificate.
    const draining = old.shutdown(current.shutdownTimeoutMs);
    retiring.add(draining);
    draining.finally(() => retiring.delete(draining)).catch(() => {});
    logger.info("listener certificate reloaded; new connections use it");
    return true;
  }

  return {
    addr: server.addr,
    adminAddr: admin.addr,
    pool,
    metrics,
    get config() {
      return current;
    },
    reconfigure,
    setDiscovered,
    shutdown: () => (shutdownPromise ??= runShutdown()),
  };
}
