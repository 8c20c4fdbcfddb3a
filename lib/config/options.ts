/**
 * The option table: every option `lb` takes, declared once. An entry's
 * name is both its flag (`--health-interval`) and its config-file key; the
 * entry says what kind of value it takes, whether it is global or set per
 * pool, its environment variable, its default (the only place defaults
 * live), its help, and whether a reload can change it. The flag parser, the
 * value lookup, `--help`, the JSON schema, the README tables and the
 * restart check are all generated from this table.
 *
 * @module
 */

import { LOG_FORMATS, LOG_LEVELS } from "../core/logging.ts";
import { BACKENDS_SCHEMA, readBackends, showBackends } from "./backends.ts";
import {
  boolean,
  choice,
  custom,
  duration,
  integer,
  type Kind,
  list,
  port,
  size,
  text,
} from "./kinds.ts";
import { FRONT_NAMES, STRATEGY_NAMES, TRANSPORT_NAMES } from "./names.ts";
import * as r from "./parsers.ts";

/** Where an option applies: the whole process, or each pool (settable per pool in the file). */
export type Scope = "global" | "pool";

/** Help and docs sections, in the order they are shown. */
export const GROUPS = {
  listener: "Listeners, shutdown and logging",
  routing: "Routing",
  pool: "Pools and balancing",
  health: "Health checks",
  resilience: "Retries, ejection and limits",
  discovery: "Service discovery",
  front: "Front door (client connections)",
  operations: "Operations",
} as const;
/** A help section. */
export type Group = keyof typeof GROUPS;

/** A default computed from other options' values. */
export interface Derived {
  /** How the default reads in help and docs, e.g. `min(health-interval, 1s)`. */
  readonly shown: string;
  /**
   * The default as text. `value` gives another option's parsed value (for
   * this pool); `named` is true for a pool named in a file with `pools`.
   */
  compute(value: (name: string) => unknown, named: boolean): string;
}

/** One option. */
export interface Option<T> {
  readonly kind: Kind<T>;
  readonly scope: Scope;
  readonly group: Group;
  /** One line for `--help` and the docs; says why, not only what. */
  readonly help: string;
  /** The default, as the flag would take it, or derived from other options. */
  readonly default: string | Derived;
  /** Whether a reload applies a change (false: the running lb keeps the old value until restarted). */
  readonly reload: boolean;
  readonly env?: string;
  /** How the default reads in help and docs when its text says little (`none`, `auto`). */
  readonly shown?: string;
  /** Overrides the kind's help placeholder. */
  readonly placeholder?: string;
  /** A command-line flag only: no config-file key, no setting (`--config`, `--help`…). */
  readonly cliOnly?: boolean;
  readonly short?: string;
  /** Kept out of settings and `--check` output: only whether it is set. */
  readonly secret?: boolean;
  /** An empty value counts as unset, so the next layer (env, file, default) applies. */
  readonly emptyIsUnset?: boolean;
  /** Reloadable, except that setting or clearing it (TLS on or off) needs a restart. */
  readonly toggleNeedsRestart?: boolean;
}

/** Declares an option, inferring its value type from its kind. */
function option<T>(spec: Option<T>): Option<T> {
  return spec;
}

/** The seed's usage: three backends on 8081-8083. */
export const DEFAULT_BACKENDS = "http://localhost:8081,http://localhost:8082,http://localhost:8083";

const file = text("FILE");
const positive = duration(true);
const listener = { scope: "global", group: "listener" } as const;
const pool = { scope: "pool", group: "pool" } as const;
const health = { scope: "pool", group: "health", reload: true } as const;
const resilience = { scope: "pool", group: "resilience" } as const;
const front = { scope: "global", group: "front", reload: false } as const;
const ops = { scope: "global", group: "operations" } as const;

/** Every option, in help order. */
export const OPTIONS = {
  port: option({
    ...listener,
    kind: port(),
    env: "PROXY_PORT",
    default: "8080",
    reload: false,
    help: "traffic listener port (0 picks a free one)",
  }),
  host: option({
    ...listener,
    kind: text("ADDR", true),
    env: "PROXY_HOST",
    default: "0.0.0.0",
    reload: false,
    help: "traffic listener address",
  }),
  "admin-port": option({
    ...listener,
    kind: port(),
    env: "ADMIN_PORT",
    default: "9901",
    reload: false,
    help: "admin listener port",
  }),
  "admin-host": option({
    ...listener,
    kind: text("ADDR", true),
    env: "ADMIN_HOST",
    default: "127.0.0.1",
    reload: false,
    help: "admin listener address",
  }),
  "trust-proxy": option({
    ...listener,
    kind: list("LIST", r.readCidr, (c) => c.text),
    default: "",
    shown: "none",
    reload: true,
    help: "CIDRs whose X-Forwarded-*/Forwarded headers are kept",
  }),
  "shutdown-delay": option({
    ...listener,
    kind: duration(),
    default: "0s",
    reload: true,
    help: "after SIGTERM, readiness fails but traffic is still served this long",
  }),
  "shutdown-timeout": option({
    ...listener,
    kind: duration(),
    default: "30s",
    reload: true,
    help: "time in-flight requests get to finish",
  }),
  "log-level": option({
    ...listener,
    kind: choice(LOG_LEVELS),
    env: "LOG_LEVEL",
    default: "info",
    reload: false,
    help: "lowest level logged",
  }),
  "log-format": option({
    ...listener,
    kind: choice(LOG_FORMATS),
    default: "text",
    reload: false,
    help: "text for people, json for JSON lines",
  }),
  "access-log": option({
    ...listener,
    kind: boolean(),
    default: "false",
    reload: false,
    help: "one line per request: method, path, status, backend, duration, bytes",
  }),
  "no-route-status": option({
    scope: "global",
    group: "routing",
    kind: integer(400, 599),
    default: "404",
    reload: true,
    help: "status for a request no route matches",
  }),
  "mirror-max-in-flight": option({
    scope: "global",
    group: "routing",
    kind: integer(0, 100_000),
    default: "100",
    reload: true,
    help: "mirrored copies in flight at once, over all routes; more are not sent",
  }),
  backends: option({
    ...pool,
    kind: custom("LIST", readBackends, { format: showBackends, schema: BACKENDS_SCHEMA }),
    env: "BACKENDS",
    default: {
      shown: "the three seed backends on localhost:8081-8083, unless discover is set",
      compute: (value, named) =>
        named || (value("discover") as unknown[]).length > 0 ? "" : DEFAULT_BACKENDS,
    },
    reload: true,
    help: "comma-separated http(s)://host:port[=weight] (weight 1-1000, 1 by default)",
  }),
  strategy: option({
    ...pool,
    kind: choice(STRATEGY_NAMES),
    env: "LB_STRATEGY",
    default: STRATEGY_NAMES[0],
    reload: true,
    help: "balancing policy",
  }),
  transport: option({
    ...pool,
    kind: choice(TRANSPORT_NAMES),
    default: TRANSPORT_NAMES[0],
    reload: false,
    help: "upstream HTTP client: h1 (on Deno.connect) or node-http",
  }),
  "hash-key": option({
    ...pool,
    kind: custom("KEY", r.readHashKey, { format: r.showHashKey }),
    default: "client-ip",
    reload: true,
    help: "consistent-hash key: client-ip, path, header:NAME or cookie:NAME",
  }),
  "sticky-cookie": option({
    ...pool,
    kind: custom("NAME", r.readCookieName),
    default: "lb_sticky",
    reload: true,
    help: "sticky-cookie cookie name",
  }),
  "sticky-secret": option({
    ...pool,
    kind: text("SECRET"),
    env: "STICKY_SECRET",
    default: "",
    shown: "random per process",
    secret: true,
    emptyIsUnset: true,
    reload: true,
    help: "HMAC key of sticky cookies; give replicas the same one",
  }),
  "ewma-decay": option({
    ...pool,
    kind: positive,
    default: "10s",
    reload: false,
    help: "time constant of the peak-EWMA latency p2c-ewma uses",
  }),
  "slow-start": option({
    ...pool,
    kind: duration(),
    default: "0s",
    reload: false,
    help:
      "a backend back from down or ejection ramps from 10% to full weight over this long (0s: off)",
  }),
  "connect-timeout": option({
    ...pool,
    kind: positive,
    default: "5s",
    reload: false,
    help: "time to open a connection to a backend",
  }),
  "response-timeout": option({
    ...pool,
    kind: positive,
    default: "60s",
    reload: true,
    help: "time from sending a request to the response headers, over all attempts",
  }),
  "idle-timeout": option({
    ...pool,
    kind: positive,
    default: "30s",
    reload: false,
    help: "how long an idle pooled upstream connection is kept",
  }),
  "backend-ca": option({
    ...pool,
    kind: file,
    default: "",
    shown: "none",
    reload: false,
    help: "PEM CA certificates trusted for https:// backends, besides the default roots",
  }),
  "health-interval": option({
    ...health,
    kind: positive,
    default: "5s",
    help: "time between probes of a backend",
  }),
  "health-timeout": option({
    ...health,
    kind: duration(),
    default: "1s",
    help: "time a probe may take",
  }),
  "health-rise": option({
    ...health,
    kind: integer(1, 100),
    default: "2",
    help: "consecutive passes that bring a backend up",
  }),
  "health-fall": option({
    ...health,
    kind: integer(1, 100),
    default: "3",
    help: "consecutive failures that take a backend down",
  }),
  "health-down-interval": option({
    ...health,
    kind: positive,
    default: {
      shown: "min(health-interval, 1s)",
      compute: (value) => `${Math.min((value("health-interval") as number) || 1000, 1000)}ms`,
    },
    help: "probe interval while a backend is down, so it returns sooner (probes are jittered 10%)",
  }),
  "health-path": option({
    ...health,
    kind: custom("PATH", r.readHealthPath),
    default: "",
    shown: "none (TCP checks)",
    help: "HTTP health checks: GET this path",
  }),
  "health-status": option({
    ...health,
    kind: custom("RANGE", r.readStatusRange, { format: (s) => `${s.min}-${s.max}` }),
    default: "200-399",
    help: "status (range) that passes an HTTP check",
  }),
  "health-host": option({
    ...health,
    kind: text("HOST"),
    default: "",
    shown: "the backend's host:port",
    help: "Host of HTTP checks",
  }),
  retries: option({
    ...resilience,
    kind: integer(0, 10),
    default: "2",
    reload: true,
    help: "extra attempts on other backends",
  }),
  "retry-budget": option({
    ...resilience,
    kind: integer(0, 100),
    default: "20",
    reload: true,
    help: "retries may be at most this % of the requests of the last 10 s...",
  }),
  "retry-budget-min": option({
    ...resilience,
    kind: integer(0, 100_000),
    default: "10",
    reload: true,
    help: "...but this many per second are always allowed",
  }),
  "try-timeout": option({
    ...resilience,
    kind: positive,
    default: { shown: "response-timeout", compute: (value) => `${value("response-timeout")}ms` },
    reload: false,
    help: "time one attempt may take to response headers (response-timeout bounds them all)",
  }),
  "retry-buffer": option({
    ...resilience,
    kind: size({ max: 64 * 1024 * 1024, example: "64KiB, 1MiB, 0" }),
    default: "64KiB",
    reload: true,
    help: "request bodies with a Content-Length up to this are kept and may be replayed",
  }),
  "eject-after": option({
    ...resilience,
    kind: integer(0, 1000),
    default: "5",
    reload: true,
    help:
      "consecutive upstream errors (resets, protocol errors, timeouts) that eject a backend; 0: off",
  }),
  "eject-on-5xx": option({
    ...resilience,
    kind: boolean(),
    default: "false",
    reload: true,
    help: "count 5xx answers as errors too",
  }),
  "eject-time": option({
    ...resilience,
    kind: positive,
    default: "30s",
    reload: true,
    help: "first ejection's length; the n-th lasts n times as long",
  }),
  "max-ejection-percent": option({
    ...resilience,
    kind: integer(0, 100),
    default: "50",
    reload: true,
    help: "never eject more of the pool than this (at least one of two)",
  }),
  "max-connections-per-backend": option({
    ...resilience,
    kind: integer(0, 1_000_000),
    default: "0",
    reload: true,
    help: "requests in flight per backend (0: unlimited); more wait in a queue (ten per slot)",
  }),
  "queue-timeout": option({
    ...resilience,
    kind: positive,
    default: "1s",
    reload: true,
    help: "longest wait in that queue; a full queue or a timeout answers 503 with Retry-After",
  }),
  "upstream-connections": option({
    ...resilience,
    kind: integer(0, 1_000_000),
    default: "128",
    reload: false,
    help:
      "connections the h1 transport opens per backend (0: no limit); each SSE stream or long poll holds one",
  }),
  discover: option({
    scope: "pool",
    group: "discovery",
    kind: list("LIST", r.readDiscoverTarget, r.showDiscoverTarget),
    default: "",
    shown: "none",
    reload: true,
    help: "dns:NAME[:PORT] (A/AAAA) and/or srv:_http._tcp.NAME (SRV ports and weights)",
  }),
  "discover-interval": option({
    scope: "pool",
    group: "discovery",
    kind: duration(),
    default: "10s",
    reload: true,
    help: "re-resolve this often, or sooner at the records' TTL (at least 1s)",
  }),
  "dns-server": option({
    scope: "pool",
    group: "discovery",
    kind: custom("IP:PORT", r.readDnsServer, { format: r.showDnsServer }),
    default: "",
    shown: "the system's",
    reload: true,
    help: "resolver discovery asks",
  }),
  front: option({
    ...front,
    kind: choice(FRONT_NAMES),
    default: FRONT_NAMES[0],
    help:
      "plain-HTTP server: h1 (ours) or deno-serve (Deno.serve, also h2c); TLS always uses Deno.serve",
  }),
  "client-header-timeout": option({
    ...front,
    kind: positive,
    default: "10s",
    help: "the whole request head must arrive within this, else 408 and close",
  }),
  "client-idle-timeout": option({
    ...front,
    kind: positive,
    default: "60s",
    help: "a keep-alive connection with no new request for this long is closed",
  }),
  "client-body-timeout": option({
    ...front,
    kind: positive,
    default: "60s",
    help: "longest wait for a byte of the request body, or for a response write to progress",
  }),
  "max-client-connections": option({
    ...front,
    kind: custom("N", r.readClientCap, { format: (n) => (n === 0 ? "auto" : String(n)) }),
    default: "auto",
    help:
      "most open client connections, past it new ones are closed at once (auto: the open-file limit less room for upstream sockets)",
  }),
  "proxy-protocol": option({
    ...front,
    kind: boolean(),
    default: "false",
    help: "every connection must open with a PROXY v1/v2 header from a trust-proxy source",
  }),
  config: option({
    ...ops,
    kind: file,
    env: "LB_CONFIG",
    default: "",
    shown: "none",
    cliOnly: true,
    reload: false,
    help: "config file, .json or .yaml (schema/lb.schema.json); reloaded on SIGHUP and on change",
  }),
  check: option({
    ...ops,
    kind: boolean(),
    default: "false",
    cliOnly: true,
    reload: false,
    help:
      "validate flags, environment and file, print a summary and exit 0 (or 2, every problem listed)",
  }),
  "admin-token": option({
    ...ops,
    kind: custom("TOKEN", r.readAdminToken),
    env: "ADMIN_TOKEN",
    default: "",
    shown: "none (read-only)",
    secret: true,
    reload: true,
    help: "bearer token (16+ characters) for the admin API's changes",
  }),
  "tls-cert": option({
    ...ops,
    kind: file,
    default: "",
    shown: "none",
    reload: true,
    toggleNeedsRestart: true,
    help:
      "PEM certificate chain: serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN); new files apply on reload",
  }),
  "tls-key": option({
    ...ops,
    kind: file,
    default: "",
    shown: "none",
    reload: true,
    help: "PEM private key for tls-cert (both or neither)",
  }),
  "ws-idle-timeout": option({
    ...ops,
    kind: positive,
    default: "5m",
    reload: true,
    help: "close WebSocket tunnels quiet this long",
  }),
  "ws-max-buffer": option({
    ...ops,
    kind: size({ min: 1024, example: "1MiB" }),
    default: "1MiB",
    reload: true,
    help: "bytes queued toward a slow WebSocket peer before the tunnel is closed",
  }),
  help: option({
    ...ops,
    kind: boolean(),
    default: "false",
    cliOnly: true,
    short: "h",
    reload: false,
    help: "print this help and exit",
  }),
  version: option({
    ...ops,
    kind: boolean(),
    default: "false",
    cliOnly: true,
    reload: false,
    help: "print the version and exit",
  }),
} as const;

/** An option's name: its flag without dashes, and its config-file key. */
export type OptionName = keyof typeof OPTIONS;

/** The parsed value type of option `K`. */
export type OptionValue<K extends OptionName> = (typeof OPTIONS)[K] extends Option<infer T> ? T
  : never;

/** Every option name, in table order. */
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/** The option called `name`, typed loosely (for generators that walk the table). */
export function optionSpec(name: OptionName): Option<unknown> {
  return OPTIONS[name] as Option<unknown>;
}

/** Options that are config-file keys in `scope`, in table order. */
export function fileOptions(scope: Scope): OptionName[] {
  return OPTION_NAMES.filter((n) => OPTIONS[n].scope === scope && !optionSpec(n).cliOnly);
}

/** How the default of `name` reads in help and docs. */
export function shownDefault(name: OptionName): string {
  const spec = optionSpec(name);
  if (typeof spec.default !== "string") return spec.default.shown;
  if (spec.shown !== undefined) return spec.shown;
  if (spec.kind.type === "boolean") return spec.default === "true" ? "on" : "off";
  return spec.default;
}
