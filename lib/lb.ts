/**
 * Assembles a running load balancer from a config: pool, strategy,
 * transport, health checks, metrics, the traffic listener and the admin
 * listener, and the shutdown sequence that takes them down in order.
 *
 * @module
 */

import { createAdminHandler } from "./admin.ts";
import type { LbConfig } from "./config.ts";
import { HealthChecker } from "./health/checker.ts";
import { httpProbe } from "./health/http_probe.ts";
import { type Prober, tcpProbe } from "./health/tcp_probe.ts";
import { log } from "./logging.ts";
import { createLbMetrics, type LbMetrics } from "./metrics/lb_metrics.ts";
import { Pool } from "./pool.ts";
import { createProxyHandler } from "./proxy/handler.ts";
import { shutdownWithin } from "./signals.ts";
import { createStrategy } from "./strategy/mod.ts";
import { createTransport } from "./transport/mod.ts";
import { VERSION } from "./version.ts";

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
  });
  const checker = new HealthChecker({
    pool,
    config: config.health,
    probe: deps.probe ?? (config.health.http ? httpProbe(config.health.http) : tcpProbe),
    onProbe: (b, ok) => metrics.healthProbes.labels(b.id, ok ? "pass" : "fail").inc(),
  });
  const handler = createProxyHandler({
    pool,
    strategy: createStrategy(config.strategy, {
      random: Math.random,
      stickyCookieName: config.balancing.stickyCookieName,
      stickySecret: config.balancing.stickySecret,
    }),
    transport,
    metrics,
    log: log("lb", "proxy"),
    accessLog: config.accessLog ? log("lb", "access") : undefined,
    retries: config.retries,
    trustProxy: config.trustProxy,
    retryAfterSeconds: Math.max(1, Math.ceil(config.health.intervalMs / 1000)),
    responseTimeoutMs: config.responseTimeoutMs,
    retry: config.retry,
    outlier: config.outlier,
    limits: config.limits,
    hashKey: config.strategy === "consistent-hash" ? config.balancing.hashKey : undefined,
    readsCookies: config.strategy === "sticky-cookie",
  });

  let shuttingDown = false;
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: () => {},
    onError: (err) => {
      logger.error("unhandled error in request handler: {error}", { error: String(err) });
      return new Response("Internal Server Error\n", { status: 500 });
    },
  }, handler);
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
    }),
  );
  checker.start();

  let shutdownPromise: Promise<boolean> | undefined;
  async function runShutdown(): Promise<boolean> {
    shuttingDown = true;
    if (config.shutdownDelayMs > 0) {
      logger.info("readiness failing; serving for {delay}ms before closing", {
        delay: config.shutdownDelayMs,
      });
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    }
    logger.info("closing listener; draining in-flight requests (up to {timeout}ms)", {
      timeout: config.shutdownTimeoutMs,
    });
    const drained = await shutdownWithin(server, config.shutdownTimeoutMs);
    if (!drained) {
      logger.warning("{count} request(s) still in flight after the shutdown timeout", {
        count: metrics.inFlight.value,
      });
    }
    await checker.stop();
    pool.close();
    await transport.close();
    await shutdownWithin(admin, 1000);
    return drained;
  }

  return {
    addr: server.addr,
    adminAddr: admin.addr,
    pool,
    metrics,
    shutdown: () => (shutdownPromise ??= runShutdown()),
  };
}
