/**
 * Configuration for operating the balancer at scale: the config file, the
 * admin API token, and DNS service discovery. Split from `config.ts` so each
 * file stays one screenful of rules.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import type { DiscoverTarget, DiscoveryConfig, TlsConfig, WebSocketConfig } from "./types.ts";
import { parseSize, positiveDuration } from "./policy.ts";

/** Operations settings. */
export interface OpsConfig {
  readonly tls: TlsConfig;
  /** PEM file of CA certificates that `https://` backends are verified against. */
  readonly backendCaFile?: string;
  readonly websocket: WebSocketConfig;
  /** Path of the JSON config file (`--config`), if any. */
  readonly configFile?: string;
  /** Bearer token for the admin API's mutating routes; they are off without one. */
  readonly adminToken?: string;
  readonly discovery: DiscoveryConfig;
}

/** The flags this module reads, for `parseArgs`. */
export const OPS_FLAGS = {
  config: { type: "string" },
  check: { type: "boolean" },
  "admin-token": { type: "string" },
  discover: { type: "string" },
  "discover-interval": { type: "string" },
  "dns-server": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "backend-ca": { type: "string" },
  "ws-idle-timeout": { type: "string" },
  "ws-max-buffer": { type: "string" },
} as const;

type Get = (name: keyof typeof OPS_FLAGS, envName: string | undefined, fallback: string) => string;

const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** Parses `--discover dns:NAME[:PORT],srv:_http._tcp.NAME`. */
export function parseDiscoverTargets(p: Problems, raw: string): DiscoverTarget[] {
  const targets: DiscoverTarget[] = [];
  for (const item of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const dns = /^dns:([^:]+)(?::(\d{1,5}))?$/.exec(item);
    const srv = /^srv:(.+)$/.exec(item);
    if (dns && HOSTNAME.test(dns[1]) && (dns[2] === undefined || Number(dns[2]) <= 65535)) {
      targets.push({ kind: "dns", name: dns[1], port: dns[2] ? Number(dns[2]) : 80 });
    } else if (srv && HOSTNAME.test(srv[1])) {
      targets.push({ kind: "srv", name: srv[1] });
    } else {
      p.add("discover", `"${item}" is not dns:NAME[:PORT] or srv:NAME`);
    }
  }
  return targets;
}

/** Parses the operations flags. */
export function parseOps(p: Problems, get: Get): OpsConfig {
  const configFile = get("config", "LB_CONFIG", "");
  const token = get("admin-token", "ADMIN_TOKEN", "");
  if (token !== "" && token.length < 16) {
    p.add("admin-token", "must be at least 16 characters (a guessable token is worse than none)");
  }
  const server = get("dns-server", undefined, "");
  let dnsServer: DiscoveryConfig["dnsServer"];
  if (server !== "") {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(server);
    if (!m || Number(m[2] ?? 53) > 65535) {
      p.add("dns-server", `"${server}" is not IP:PORT (e.g. 127.0.0.1:5353)`);
    } else {
      dnsServer = { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2] ?? 53) };
    }
  }
  const certFile = get("tls-cert", undefined, "") || undefined;
  const keyFile = get("tls-key", undefined, "") || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    p.add(certFile ? "tls-key" : "tls-cert", "--tls-cert and --tls-key go together");
  }
  const wsBufferText = get("ws-max-buffer", undefined, "1MiB");
  const wsBuffer = parseSize(wsBufferText);
  if (wsBuffer === undefined || wsBuffer < 1024) {
    p.add("ws-max-buffer", `"${wsBufferText}" is not a size of at least 1KiB (e.g. 1MiB)`);
  }
  const intervalText = get("discover-interval", undefined, "10s");
  const intervalMs = p.duration("discover-interval", intervalText);
  return {
    tls: { certFile, keyFile },
    backendCaFile: get("backend-ca", undefined, "") || undefined,
    websocket: {
      idleTimeoutMs: positiveDuration(
        p,
        "ws-idle-timeout",
        get("ws-idle-timeout", undefined, "5m"),
      ),
      maxBufferedBytes: wsBuffer ?? 1024 * 1024,
    },
    configFile: configFile || undefined,
    adminToken: token || undefined,
    discovery: {
      targets: parseDiscoverTargets(p, get("discover", undefined, "")),
      intervalMs: Math.max(1000, intervalMs),
      dnsServer,
    },
  };
}
