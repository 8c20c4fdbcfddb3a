/**
 * The shutdown sequence: readiness fails, traffic is still served for
 * `--shutdown-delay` (so load balancers in front notice), WebSocket tunnels
 * get the shutdown timeout to finish, then the listener closes and requests
 * in flight get what is left of it; last the pools, mirrors and the admin
 * listener stop.
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Mirror } from "../proxy/mirror.ts";
import type { TunnelSet } from "../proxy/websocket.ts";

/** What the sequence takes down. */
export interface ShutdownSteps {
  readonly config: LbConfig;
  readonly log: Logger;
  readonly metrics: LbMetrics;
  readonly tunnels: TunnelSet;
  readonly mirror: Mirror;
  /** Marks the lb as shutting down (readiness fails from now on). */
  begin(): void;
  /** Closes the traffic listener(s), draining up to `timeoutMs`; true when all drained. */
  closeListeners(timeoutMs: number): Promise<boolean>;
  /** Stops pools, health checks, discovery and the admin listener. */
  closeRest(): Promise<void>;
}

/** Runs the sequence; resolves true when every request in flight finished in time. */
export async function runShutdown(steps: ShutdownSteps): Promise<boolean> {
  const { config, log } = steps;
  steps.begin();
  if (config.shutdownDelayMs > 0) {
    log.info("readiness failing; serving for {delay}ms before closing", {
      delay: config.shutdownDelayMs,
    });
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
  }
  // Deno's shutdown() closes upgraded sockets at once, so WebSocket tunnels
  // are drained first: they get up to the shutdown timeout (new upgrades are
  // refused meanwhile, plain requests still served), then close with 1001.
  const started = Date.now();
  if (steps.tunnels.size > 0) {
    log.info("waiting for {count} WebSocket tunnel(s) (up to {timeout}ms)", {
      count: steps.tunnels.size,
      timeout: config.shutdownTimeoutMs,
    });
  }
  await steps.tunnels.drain(config.shutdownTimeoutMs);
  const remaining = Math.max(1000, config.shutdownTimeoutMs - (Date.now() - started));
  log.info("closing listener; draining in-flight requests (up to {timeout}ms)", {
    timeout: remaining,
  });
  const drained = await steps.closeListeners(remaining);
  if (!drained) {
    log.warning("{count} request(s) still in flight after the shutdown timeout", {
      count: steps.metrics.inFlight.value,
    });
  }
  await steps.mirror.drain();
  await steps.closeRest();
  return drained;
}
