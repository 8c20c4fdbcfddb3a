/**
 * The option table's per-pool entries: backends, balancing, upstream
 * timeouts, health checks, retries, ejection, limits and discovery. Each
 * can be set for every pool at once (flag, environment, the file's top
 * level) or for one pool in the file's `pools`. See `options.ts`.
 *
 * @module
 */

import { BACKENDS_SCHEMA, readBackends, showBackends } from "./backends.ts";
import { boolean, choice, custom, duration, integer, list, size, text } from "./kinds.ts";
import { STRATEGY_NAMES, TRANSPORT_NAMES } from "./names.ts";
import { option } from "./option.ts";
import * as r from "./parsers.ts";

/** The seed's usage: three backends on 8081-8083. */
export const DEFAULT_BACKENDS = "http://localhost:8081,http://localhost:8082,http://localhost:8083";

const positive = duration(true);
const pool = { scope: "pool", group: "pool" } as const;
const health = { scope: "pool", group: "health", reload: true } as const;
const resilience = { scope: "pool", group: "resilience" } as const;
const discovery = { scope: "pool", group: "discovery", reload: true } as const;

/** Pool options, in help order. */
export const POOL_OPTIONS = {
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
    kind: text("FILE"),
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
    help: "retries may be at most this % of the requests of the last 10 s (see retry-budget-min)",
  }),
  "retry-budget-min": option({
    ...resilience,
    kind: integer(0, 100_000),
    default: "10",
    reload: true,
    help: "retries always allowed per second, whatever the budget says",
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
      "connections the h1 transport opens per backend, over all workers (0: no limit); each SSE stream or long poll holds one",
  }),
  discover: option({
    ...discovery,
    kind: list("LIST", r.readDiscoverTarget, r.showDiscoverTarget),
    default: "",
    shown: "none",
    help: "dns:NAME[:PORT] (A/AAAA) and/or srv:_http._tcp.NAME (SRV ports and weights)",
  }),
  "discover-interval": option({
    ...discovery,
    kind: duration(),
    default: "10s",
    help: "re-resolve this often, or sooner at the records' TTL (at least 1s)",
  }),
  "dns-server": option({
    ...discovery,
    kind: custom("IP:PORT", r.readDnsServer, { format: r.showDnsServer }),
    default: "",
    shown: "the system's",
    help: "resolver discovery asks",
  }),
} as const;
