/**
 * The load balancer's configuration: one pure function from command-line
 * arguments and environment to a validated, immutable {@link LbConfig}.
 * Flags override environment variables, which override defaults. Every
 * problem is collected and reported at once, each naming its flag.
 *
 * @module
 */

import { parseFlags, pick, Problems } from "./cli.ts";
import { type Cidr, parseCidr } from "../core/cidr.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from "../core/logging.ts";
import type {
  BackendSpec,
  BalancingConfig,
  HealthConfig,
  LbConfig,
  LimitsConfig,
  OutlierConfig,
  RetryConfig,
} from "./types.ts";
import {
  parseBalancing,
  parseHttpCheck,
  parseLimits,
  parseOutlier,
  parseRetry,
  POLICY_FLAGS,
  positiveDuration,
} from "./policy.ts";
import type { ConfigFile } from "./file.ts";
import { OPS_FLAGS, type OpsConfig, parseOps } from "./ops.ts";
import { FRONT_FLAGS, parseFront } from "./front.ts";
import type { FrontConfig } from "./types.ts";
import { STRATEGY_NAMES, type StrategyName, TRANSPORT_NAMES, type TransportName } from "./names.ts";

/** The single-pool settings, before they become a pool and a route. */
interface FlatConfig {
  readonly host: string;
  readonly port: number;
  readonly backends: readonly BackendSpec[];
  readonly strategy: StrategyName;
  readonly transport: TransportName;
  readonly health: HealthConfig;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retries: number;
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly trustProxy: readonly Cidr[];
  readonly logLevel: LogLevelName;
  readonly logFormat: LogFormat;
  readonly accessLog: boolean;
  readonly balancing: BalancingConfig;
  readonly outlier: OutlierConfig;
  readonly retry: RetryConfig;
  readonly limits: LimitsConfig;
  readonly ops: OpsConfig;
  readonly front: FrontConfig;
}

/**
 * The config file path the command line or `LB_CONFIG` names, found before
 * the full parse (the file is a layer of that parse). Undefined when none.
 */
export function configPath(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--config") return args[i + 1];
    if (args[i].startsWith("--config=")) return args[i].slice("--config=".length);
  }
  return env.LB_CONFIG || undefined;
}

/** What the command line asked for: run, or print help or the version. */
export type LbCommand =
  | { readonly kind: "run"; readonly config: LbConfig }
  | { readonly kind: "help" }
  | { readonly kind: "check"; readonly config: LbConfig }
  | { readonly kind: "version" };

/** The seed's usage: three backends on 8081-8083. */
export const DEFAULT_BACKENDS = "http://localhost:8081,http://localhost:8082,http://localhost:8083";

const FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  backends: { type: "string" },
  strategy: { type: "string" },
  transport: { type: "string" },
  "health-interval": { type: "string" },
  "health-timeout": { type: "string" },
  "health-rise": { type: "string" },
  "health-fall": { type: "string" },
  "connect-timeout": { type: "string" },
  "response-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  retries: { type: "string" },
  "shutdown-delay": { type: "string" },
  "shutdown-timeout": { type: "string" },
  "admin-port": { type: "string" },
  "admin-host": { type: "string" },
  "trust-proxy": { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "access-log": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  ...POLICY_FLAGS,
  ...OPS_FLAGS,
  ...FRONT_FLAGS,
} as const;

/** Environment variables read, for `--allow-env` lists and documentation. */
export const LB_ENV_VARS = [
  "PROXY_PORT",
  "PROXY_HOST",
  "BACKENDS",
  "LB_STRATEGY",
  "ADMIN_PORT",
  "ADMIN_HOST",
  "LOG_LEVEL",
  "STICKY_SECRET",
  "ADMIN_TOKEN",
  "LB_CONFIG",
] as const;

/**
 * Parses `lb`'s command line. Throws a `UsageError` listing every problem.
 * Pure: reads nothing but its arguments.
 */
export function parseLbArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  randomSecret: () => string = () => crypto.randomUUID(),
  file?: ConfigFile,
): LbCommand {
  const f = parseFlags(args, FLAGS);
  if (f.help) return { kind: "help" };
  if (f.version) return { kind: "version" };
  const p = new Problems();
  // Flags > environment > config file > defaults.
  const fromFile = (name: string) => {
    const v = file?.values[name];
    return typeof v === "string" ? v : undefined;
  };
  const str = (name: keyof typeof FLAGS, envName: string | undefined, fallback: string) =>
    pick(f[name], env, envName, fromFile(name) ?? fallback);
  const on = (name: keyof typeof FLAGS) => f[name] === true || file?.values[name] === true;

  const intervalMs = positiveDuration(
    p,
    "health-interval",
    str("health-interval", undefined, "5s"),
  );
  const health: HealthConfig = {
    intervalMs,
    timeoutMs: p.duration("health-timeout", str("health-timeout", undefined, "1s")),
    rise: p.integer("health-rise", str("health-rise", undefined, "2"), 1, 100),
    fall: p.integer("health-fall", str("health-fall", undefined, "3"), 1, 100),
    downIntervalMs: positiveDuration(
      p,
      "health-down-interval",
      str("health-down-interval", undefined, `${Math.min(intervalMs || 1000, 1000)}ms`),
    ),
    http: parseHttpCheck(p, str),
  };
  const responseTimeoutMs = positiveDuration(
    p,
    "response-timeout",
    str("response-timeout", undefined, "60s"),
  );
  const ops = parseOps(p, str);
  const discovering = ops.discovery.targets.length > 0;
  const config: FlatConfig = {
    port: p.port("port", str("port", "PROXY_PORT", "8080")),
    host: str("host", "PROXY_HOST", "0.0.0.0"),
    // With discovery, static backends are optional and the seed's defaults don't apply.
    backends: discovering
      ? parseBackends(p, str("backends", "BACKENDS", ""), true)
      : parseBackends(p, str("backends", "BACKENDS", DEFAULT_BACKENDS)),
    strategy: p.choice("strategy", str("strategy", "LB_STRATEGY", "round-robin"), STRATEGY_NAMES),
    transport: p.choice(
      "transport",
      str("transport", undefined, TRANSPORT_NAMES[0]),
      TRANSPORT_NAMES,
    ),
    health,
    connectTimeoutMs: positiveDuration(
      p,
      "connect-timeout",
      str("connect-timeout", undefined, "5s"),
    ),
    responseTimeoutMs,
    idleTimeoutMs: positiveDuration(p, "idle-timeout", str("idle-timeout", undefined, "30s")),
    retries: p.integer("retries", str("retries", undefined, "2"), 0, 10),
    shutdownDelayMs: p.duration("shutdown-delay", str("shutdown-delay", undefined, "0s")),
    shutdownTimeoutMs: p.duration("shutdown-timeout", str("shutdown-timeout", undefined, "30s")),
    adminPort: p.port("admin-port", str("admin-port", "ADMIN_PORT", "9901")),
    adminHost: str("admin-host", "ADMIN_HOST", "127.0.0.1"),
    trustProxy: parseTrustProxy(p, str("trust-proxy", undefined, "")),
    logLevel: p.choice("log-level", str("log-level", "LOG_LEVEL", "info"), LOG_LEVELS),
    logFormat: p.choice("log-format", str("log-format", undefined, "text"), LOG_FORMATS),
    accessLog: on("access-log"),
    balancing: parseBalancing(p, str, env, randomSecret),
    outlier: parseOutlier(p, str, on("eject-on-5xx")),
    retry: parseRetry(p, str, responseTimeoutMs),
    limits: parseLimits(p, str),
    ops,
    front: parseFront(p, str, on),
  };
  if (config.host.trim() === "") p.add("host", "must not be empty");
  if (config.adminHost.trim() === "") p.add("admin-host", "must not be empty");
  if (
    config.port !== 0 && config.port === config.adminPort && overlap(config.host, config.adminHost)
  ) {
    p.add("admin-port", `${config.adminPort} is also the --port; they must differ`);
  }
  if (config.front.proxyProtocol) {
    if (config.trustProxy.length === 0) {
      p.add(
        "proxy-protocol",
        "needs --trust-proxy: PROXY headers are accepted only from those sources",
      );
    }
    if (config.front.name !== "h1" || config.ops.tls.certFile) {
      p.add(
        "proxy-protocol",
        "needs the h1 front on plain HTTP (Deno.serve can't read PROXY headers)",
      );
    }
  }
  p.throwIfAny();
  const kind = f.check === true ? "check" : "run";
  if (file && Object.keys(file.metadata).length > 0) {
    const withMeta = config.backends.map((b) =>
      file.metadata[b.origin] ? { ...b, metadata: file.metadata[b.origin] } : b
    );
    return { kind, config: lbConfig({ ...config, backends: withMeta }) };
  }
  return { kind, config: lbConfig(config) };
}

/** One pool called `default` and one route that matches everything. */
function lbConfig(flat: FlatConfig): LbConfig {
  return {
    host: flat.host,
    port: flat.port,
    adminHost: flat.adminHost,
    adminPort: flat.adminPort,
    trustProxy: flat.trustProxy,
    logLevel: flat.logLevel,
    logFormat: flat.logFormat,
    accessLog: flat.accessLog,
    shutdownDelayMs: flat.shutdownDelayMs,
    shutdownTimeoutMs: flat.shutdownTimeoutMs,
    front: flat.front,
    tls: { certFile: flat.ops.tls.certFile, keyFile: flat.ops.tls.keyFile },
    websocket: flat.ops.websocket,
    configFile: flat.ops.configFile,
    adminToken: flat.ops.adminToken,
    noRouteStatus: 404,
    mirrorMaxInFlight: 100,
    pools: [{
      name: "default",
      backends: flat.backends,
      strategy: flat.strategy,
      transport: flat.transport,
      health: flat.health,
      connectTimeoutMs: flat.connectTimeoutMs,
      responseTimeoutMs: flat.responseTimeoutMs,
      idleTimeoutMs: flat.idleTimeoutMs,
      retries: flat.retries,
      balancing: flat.balancing,
      outlier: flat.outlier,
      retry: flat.retry,
      limits: flat.limits,
      discovery: flat.ops.discovery,
      backendCaFile: flat.ops.backendCaFile,
    }],
    routes: [{ name: "default", match: {}, target: { kind: "pool", pool: "default" } }],
    settings: {},
  };
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** Whether two listen addresses would compete for the same port. */
function overlap(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

/**
 * Parses `--backends`: comma-separated `http://host:port` or
 * `https://host:port` URLs, or bare `host:port` (plain HTTP). Paths and
 * credentials are refused rather than silently ignored, so a typo can't
 * send traffic somewhere unexpected.
 */
export function parseBackends(p: Problems, raw: string, allowEmpty = false): BackendSpec[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0 && !allowEmpty) {
    p.add(
      "backends",
      "no backends given (expected e.g. http://127.0.0.1:8081,http://127.0.0.1:8082)",
    );
    return [];
  }
  const seen = new Set<string>();
  const specs: BackendSpec[] = [];
  for (const item of items) {
    const spec = parseBackend(item);
    if (typeof spec === "string") {
      p.add("backends", `"${item}" ${spec}`);
    } else if (seen.has(spec.origin)) {
      p.add("backends", `"${item}" is listed twice`);
    } else {
      seen.add(spec.origin);
      specs.push(spec);
    }
  }
  return specs;
}

function parseBackend(entry: string): BackendSpec | string {
  // `URL=weight`: `=` can't appear in an http origin, so the split is unambiguous.
  const eq = entry.lastIndexOf("=");
  const item = eq === -1 ? entry : entry.slice(0, eq);
  let weight = 1;
  if (eq !== -1) {
    const w = entry.slice(eq + 1);
    if (!/^\d{1,4}$/.test(w) || Number(w) < 1 || Number(w) > 1000) {
      return `has weight "${w}" (expected a whole number from 1 to 1000)`;
    }
    weight = Number(w);
  }
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(item) ? item : `http://${item}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return "is not an http URL (expected http://host:port or https://host:port)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `is not an http URL (scheme ${url.protocol} is not supported; expected http or https)`;
  }
  const tls = url.protocol === "https:";
  if (url.username || url.password) return "must not contain credentials";
  if (url.pathname !== "/" || url.search || url.hash) {
    return "must not have a path, query or fragment (expected http://host:port)";
  }
  if (url.hostname === "") return "has no host";
  // URL drops a scheme's default port from `url.port`, so the origin stays canonical.
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  if (port === 0) return "has port 0 (expected 1-65535)";
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { origin: `${url.protocol}//${url.host}`, hostname, port, weight, tls };
}

function parseTrustProxy(p: Problems, raw: string): Cidr[] {
  const ranges: Cidr[] = [];
  for (const item of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const cidr = parseCidr(item);
    if (cidr) ranges.push(cidr);
    else p.add("trust-proxy", `"${item}" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`);
  }
  return ranges;
}
