/**
 * The option table's process-wide entries: listeners, shutdown, logging,
 * routing limits, the front door and operations (TLS, WebSockets, the
 * admin token, and the command-line-only `--config`, `--check`, `--help`,
 * `--version`). See `options.ts`.
 *
 * @module
 */

import { ACCESS_LOG_FORMATS, DEFAULT_JSON_FIELDS } from "../core/access_record.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../core/logging.ts";
import { boolean, choice, custom, duration, integer, list, port, size, text } from "./kinds.ts";
import { FRONT_NAMES } from "./names.ts";
import {
  defaultAccessLogFormat,
  readAccessField,
  readAccessTemplate,
} from "./access_log_readers.ts";
import { option } from "./option.ts";
import * as r from "./parsers.ts";
import { readOtlpEndpoint, readOtlpHeaders } from "./policies/tracing.ts";

const file = text("FILE");
const positive = duration(true);
const listener = { scope: "global", group: "listener" } as const;
const front = { scope: "global", group: "front", reload: false } as const;
const ops = { scope: "global", group: "operations" } as const;

/** Global options, in help order. */
export const GLOBAL_OPTIONS = {
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
  workers: option({
    ...listener,
    kind: custom("N", r.readWorkers, { format: (n) => (n === 0 ? "auto" : String(n)) }),
    env: "LB_WORKERS",
    default: "1",
    reload: false,
    help:
      "threads serving traffic, each with its own listener on the port (reusePort) and upstream connections; auto: one per CPU the process may use",
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
    help:
      "one line per request: method, path, status, backend, duration, bytes; on by itself with an access-log-format other than log",
  }),
  "access-log-format": option({
    ...listener,
    kind: choice(ACCESS_LOG_FORMATS),
    default: {
      shown: "log (json with a file or fields, template with a template)",
      compute: defaultAccessLogFormat,
    },
    reload: false,
    help:
      "JSON lines, NGINX's combined or common, or a template; log keeps the lb's own log (--log-format)",
  }),
  "access-log-fields": option({
    ...listener,
    kind: list("LIST", readAccessField, (f) => f),
    default: DEFAULT_JSON_FIELDS.join(","),
    shown: "all but time_local, request",
    reload: false,
    help: "the json format's fields, in order (docs/policies.md: Access log)",
  }),
  "access-log-template": option({
    ...listener,
    kind: custom("TEXT", readAccessTemplate, { format: (t) => t }),
    default: "",
    shown: "none",
    emptyIsUnset: true,
    reload: false,
    help: "the template format's line: $field or ${field} for each field, $$ for a dollar sign",
  }),
  "access-log-file": option({
    ...listener,
    kind: file,
    default: "",
    shown: "stdout",
    emptyIsUnset: true,
    reload: false,
    help: "append access-log lines to this file; SIGUSR1 reopens it (logrotate)",
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
    reload: false,
    help: "mirrored copies in flight at once, over all routes; more are not sent",
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
      "most open client connections over all workers, past it new ones are closed at once (auto: the open-file limit less room for upstream sockets)",
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
    reload: false,
    help: "close WebSocket tunnels quiet this long",
  }),
  "ws-max-buffer": option({
    ...ops,
    kind: size({ min: 1024, example: "1MiB" }),
    default: "1MiB",
    reload: false,
    help: "bytes queued toward a slow WebSocket peer before the tunnel is closed",
  }),
  "otlp-endpoint": option({
    ...ops,
    kind: custom("URL", readOtlpEndpoint),
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: "",
    shown: "none (tracing off)",
    reload: false,
    help:
      "OTLP/HTTP collector base URL (spans go to <URL>/v1/traces, as JSON); routes' policies.tracing is off without it",
  }),
  "otlp-headers": option({
    ...ops,
    kind: custom("LIST", readOtlpHeaders, {
      format: (pairs) => pairs.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join(","),
    }),
    env: "OTEL_EXPORTER_OTLP_HEADERS",
    default: "",
    shown: "none",
    secret: true,
    reload: false,
    help: "fields sent with every export, name=value,... with values percent-encoded (API keys)",
  }),
  "otlp-service-name": option({
    ...ops,
    kind: text("NAME", true),
    env: "OTEL_SERVICE_NAME",
    default: "lb",
    reload: false,
    help: "the service.name resource attribute of the lb's spans",
  }),
  "otlp-queue-size": option({
    ...ops,
    kind: integer(1, 1_000_000),
    default: "2048",
    reload: false,
    help: "ended spans waiting for export, per thread; more are dropped and counted",
  }),
  "otlp-batch-size": option({
    ...ops,
    kind: integer(1, 100_000),
    default: "512",
    reload: false,
    help: "most spans in one export request (at most the queue size)",
  }),
  "otlp-interval": option({
    ...ops,
    kind: positive,
    default: "5s",
    reload: false,
    help: "longest wait before a partial batch is exported (a full one goes at once)",
  }),
  "otlp-timeout": option({
    ...ops,
    kind: positive,
    default: "10s",
    reload: false,
    help: "an export request slower than this fails (its spans are counted failed)",
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
