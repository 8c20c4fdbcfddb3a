/**
 * What a client connection of the h1 front shares with its server: the
 * core in force, the timer wheels, limits, metrics and logs. Kept in its own
 * module so the connection and the server don't import each other.
 *
 * @module
 */

import type { Deadlines } from "../../http1/deadlines.ts";
import type { Logger } from "../../core/logging.ts";
import type { ProxyCore } from "../../proxy/handler.ts";

/** Which wait a connection is in; each has its own timeout. */
export const enum Phase {
  /** Reading a request head (or the PROXY header). */
  Head,
  /** Waiting for the next request on a kept-alive connection. */
  Idle,
  /** Reading the request body. */
  Body,
  /** Writing the reply. */
  Send,
  /** Waiting for the core or the backend's body (`--response-timeout` applies upstream). */
  Busy,
}

/** The `phase` label of `lb_client_timeouts_total`. */
export const PHASE_NAMES = ["header", "idle", "body", "send", "busy"] as const;

/** Counters the front keeps. */
export interface FrontMetrics {
  timeout(phase: Phase): void;
  /** A connection refused before any request: `limit` or `proxy_protocol`. */
  rejected(reason: "limit" | "proxy_protocol"): void;
  /** A request answered by the front itself with 4xx/5xx (malformed, too large, unsupported). */
  badRequest(status: number): void;
  /** Bytes relayed through an upgrade tunnel. */
  tunnelBytes(direction: "clientToBackend" | "backendToClient", n: number): void;
  /** Tunnels opened (+1) or closed (-1). */
  tunnels(delta: number): void;
}

/** What connections share. */
export interface FrontContext {
  /** The core in force: a reload swaps it; a request keeps the one it started with. */
  core(): ProxyCore;
  /** The tick at which a wait in `phase` that starts now expires; 0 when the phase has none. */
  dueTick(phase: Phase): number;
  /** Idle timeout of upgrade tunnels. */
  readonly tunnelIdle: Deadlines;
  /** Whether every connection must start with a PROXY header. */
  readonly proxyProtocol: boolean;
  /** True once shutdown began: replies say `Connection: close`, idle connections close. */
  draining(): boolean;
  readonly log: Logger;
  readonly metrics: FrontMetrics;
  /** Called once when a connection has closed. */
  closed(conn: object): void;
}
