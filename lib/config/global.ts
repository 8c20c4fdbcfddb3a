/**
 * The process-wide part of {@link LbConfig}: listeners, logging, shutdown,
 * the front door, TLS termination, WebSocket limits, the admin token and
 * the routing limits, plus the rules that tie global options together
 * (listeners that would collide, PROXY protocol's needs, TLS files in pairs).
 *
 * @module
 */

import { buildAccessLog } from "./access_log.ts";
import type { Problems } from "./cli.ts";
import type { LbConfig } from "./types.ts";
import type { OptionReader } from "./values.ts";

/** The global settings of an {@link LbConfig}. */
export type GlobalConfig = Omit<
  LbConfig,
  "pools" | "routes" | "settings" | "generatedStickySecret"
>;

/** Reads the global options and checks the rules between them. */
export function buildGlobal(p: Problems, r: OptionReader): GlobalConfig {
  const config: GlobalConfig = {
    host: r.get("host"),
    port: r.get("port"),
    adminHost: r.get("admin-host"),
    adminPort: r.get("admin-port"),
    trustProxy: r.get("trust-proxy"),
    logLevel: r.get("log-level"),
    logFormat: r.get("log-format"),
    ...buildAccessLog(p, r),
    workers: r.get("workers"),
    shutdownDelayMs: r.get("shutdown-delay"),
    shutdownTimeoutMs: r.get("shutdown-timeout"),
    front: {
      name: r.get("front"),
      headerTimeoutMs: r.get("client-header-timeout"),
      idleTimeoutMs: r.get("client-idle-timeout"),
      bodyTimeoutMs: r.get("client-body-timeout"),
      maxClientConnections: r.get("max-client-connections"),
      proxyProtocol: r.get("proxy-protocol"),
    },
    tls: { certFile: r.get("tls-cert") || undefined, keyFile: r.get("tls-key") || undefined },
    websocket: {
      idleTimeoutMs: r.get("ws-idle-timeout"),
      maxBufferedBytes: r.get("ws-max-buffer"),
    },
    configFile: r.get("config") || undefined,
    adminToken: r.get("admin-token") || undefined,
    noRouteStatus: r.get("no-route-status"),
    mirrorMaxInFlight: r.get("mirror-max-in-flight"),
  };
  checkGlobal(p, r, config);
  return config;
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** Whether two listen addresses would compete for the same port. */
function overlap(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

function checkGlobal(p: Problems, r: OptionReader, c: GlobalConfig): void {
  // A wildcard listener covers every address, so 0.0.0.0:9901 and 127.0.0.1:9901 can't both bind.
  if (c.port !== 0 && c.port === c.adminPort && overlap(c.host, c.adminHost)) {
    p.at(r.where("admin-port"), `${c.adminPort} is also the --port; they must differ`);
  }
  if (c.front.proxyProtocol) {
    if (c.trustProxy.length === 0) {
      p.at(
        r.where("proxy-protocol"),
        "needs --trust-proxy: PROXY headers are accepted only from those sources",
      );
    }
    if (c.front.name !== "h1" || c.tls.certFile) {
      p.at(
        r.where("proxy-protocol"),
        "needs the h1 front on plain HTTP (Deno.serve can't read PROXY headers)",
      );
    }
  }
  if ((c.tls.certFile === undefined) !== (c.tls.keyFile === undefined)) {
    p.at(r.where(c.tls.certFile ? "tls-key" : "tls-cert"), "--tls-cert and --tls-key go together");
  }
}
