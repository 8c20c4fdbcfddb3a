/**
 * The traffic listener, whichever front serves it: our HTTP/1.1 front on
 * `Deno.listen` for plain HTTP (the default), or `Deno.serve` for TLS (HTTP/2
 * by ALPN) and `--front deno-serve`. With `reusePort` several listeners
 * (worker threads, or a certificate reload) share the port.
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import { defaultMaxClientConnections, openFileLimit } from "../front/file_limit.ts";
import { denoServeHandler } from "../front/deno_serve.ts";
import { H1Front } from "../front/h1/server.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { ProxyCore } from "../proxy/handler.ts";
import type { TunnelSet } from "../proxy/websocket.ts";
import { share } from "./pools.ts";
import { shutdownWithin } from "./signals.ts";
import type { ListenerPem } from "./tls_files.ts";

/** The traffic listener, whichever front serves it. */
export interface TrafficListener {
  readonly addr: Deno.NetAddr;
  /** Stops accepting and drains; true when everything in flight finished within `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<boolean>;
}

/** What the listener serves with. */
export interface ListenerDeps {
  readonly config: LbConfig;
  /** The core in force; a reload swaps it. */
  readonly core: () => ProxyCore;
  readonly metrics: LbMetrics;
  readonly log: (...category: string[]) => Logger;
  /** WebSocket tunnels on the `Deno.serve` front, shared so shutdown can drain them. */
  readonly tunnels: TunnelSet;
  /** Threads sharing the port: each takes this share of `--max-client-connections`. */
  readonly sharers: number;
}

/** Upstream sockets the transports may hold open: per-backend caps times the backends. */
function upstreamSockets(config: LbConfig): number {
  let total = 0;
  for (const pool of config.pools) {
    const perBackend = pool.limits.upstreamConnections || Infinity;
    total += perBackend * Math.max(1, pool.backends.length);
  }
  return total;
}

/**
 * `--max-client-connections` (a process-wide cap on file descriptors), or
 * its default from the file limit (logged, as it is derived), divided
 * among the `sharers` threads that accept on the port.
 */
function maxClientConnections(config: LbConfig, sharers: number, log: Logger): number {
  if (config.front.maxClientConnections > 0) {
    return share(config.front.maxClientConnections, sharers);
  }
  const { limit, read } = openFileLimit();
  // `--upstream-connections` is split among the threads too, so the room is the same.
  const max = share(defaultMaxClientConnections(limit, upstreamSockets(config)), sharers);
  log.info(
    `at most ${max} client connections (open-file limit ${limit}${
      read ? "" : ", assumed: /proc/self/limits is not readable"
    }; set --max-client-connections to choose)`,
  );
  return max;
}

/**
 * Binds the traffic listener on `port`. With TLS, Deno.serve negotiates
 * HTTP/2 or HTTP/1.1 by ALPN itself; `reusePort` lets a certificate reload
 * bind a second listener on the same port before the first drains.
 */
export function serveTraffic(
  deps: ListenerDeps,
  port: number,
  pem: ListenerPem | undefined,
  reusePort: boolean,
): TrafficListener {
  const { config, metrics } = deps;
  if (!pem && config.front.name === "h1") {
    return new H1Front({
      hostname: config.host,
      port,
      core: deps.core,
      timeouts: {
        headerMs: config.front.headerTimeoutMs,
        idleMs: config.front.idleTimeoutMs,
        bodyMs: config.front.bodyTimeoutMs,
      },
      reusePort,
      maxConnections: maxClientConnections(config, deps.sharers, deps.log("lb", "front")),
      proxyProtocolFrom: config.front.proxyProtocol ? config.trustProxy : undefined,
      tunnelIdleMs: config.websocket.idleTimeoutMs,
      metrics,
      log: deps.log("lb", "front"),
    });
  }
  const logger = deps.log("lb");
  const handler = denoServeHandler({
    core: deps.core,
    proto: pem ? "https" : "http",
    websocket: {
      metrics,
      log: deps.log("lb", "websocket"),
      config: config.websocket,
      tunnels: deps.tunnels,
    },
  });
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
  }, handler);
  return { addr: served.addr, shutdown: (ms) => shutdownWithin(served, ms) };
}
