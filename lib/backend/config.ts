/**
 * The demo backend's configuration: one pure function from command-line
 * arguments and environment to a validated, immutable {@link BackendConfig}.
 * Flags override environment variables, which override defaults. Every
 * problem is collected and reported at once, each naming its flag.
 *
 * @module
 */

import { parseFlags, pick, Problems } from "../config/cli.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from "../core/logging.ts";
import { VERSION } from "../core/version.ts";

/** The backend's version, printed by `--version`. */

/** Everything `backend` needs to run, validated. */
export interface BackendConfig {
  /** Listen port; 0 lets the kernel pick a free one. */
  readonly port: number;
  /** Listen address. */
  readonly host: string;
  /**
   * Name reported in responses and logs. `undefined` means
   * `backend-<port>` with the port actually bound, which is only known after
   * listening when `port` is 0.
   */
  readonly name: string | undefined;
  readonly logLevel: LogLevelName;
  readonly logFormat: LogFormat;
  /** How long in-flight requests get to finish after SIGTERM/SIGINT. */
  readonly shutdownTimeoutMs: number;
}

/** What the command line asked for: run, or print help or the version. */
export type BackendCommand =
  | { readonly kind: "run"; readonly config: BackendConfig }
  | { readonly kind: "help"; readonly usage: string }
  | { readonly kind: "version"; readonly version: string };

const FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  name: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "shutdown-timeout": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Environment variables read, for `--allow-env` lists and documentation. */
export const BACKEND_ENV_VARS = ["SERVER_PORT", "SERVER_HOST", "SERVER_NAME", "LOG_LEVEL"] as const;

/**
 * Parses `backend`'s command line. Throws a `UsageError` listing every
 * problem. Pure: reads nothing but its arguments.
 */
export function parseBackendConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): BackendCommand {
  const f = parseFlags(args, FLAGS);
  if (f.help) return { kind: "help", usage: BACKEND_USAGE };
  if (f.version) return { kind: "version", version: `backend ${VERSION}` };
  const p = new Problems();
  const str = (flag: keyof typeof FLAGS, envName: string | undefined, fallback: string) =>
    pick(f[flag], env, envName, fallback);

  // Problems are listed in flag order, so each value is decoded in that order.
  const port = p.port("port", str("port", "SERVER_PORT", "8081"));
  const host = str("host", "SERVER_HOST", "0.0.0.0").trim();
  if (host === "") p.add("host", "must not be empty");
  // An explicit empty name would make responses anonymous; refuse it rather
  // than silently falling back to the default.
  const name = str("name", "SERVER_NAME", "").trim();
  if (typeof f.name === "string" && name === "") p.add("name", "must not be empty");
  const config: BackendConfig = {
    port,
    host,
    name: name === "" ? undefined : name,
    logLevel: p.choice("log-level", str("log-level", "LOG_LEVEL", "info"), LOG_LEVELS),
    logFormat: p.choice("log-format", str("log-format", undefined, "text"), LOG_FORMATS),
    shutdownTimeoutMs: p.duration("shutdown-timeout", str("shutdown-timeout", undefined, "10s")),
  };
  p.throwIfAny();
  return { kind: "run", config };
}

/** The name a backend reports: `--name`, else `backend-<bound port>`. */
export function backendName(config: BackendConfig, boundPort: number): string {
  return config.name ?? `backend-${boundPort}`;
}

/** Usage text for `backend --help`. */
export const BACKEND_USAGE =
  `backend \u2014 a demo HTTP backend (whoami + httpbin) for the load balancer

Usage: backend [flags]

Flags (flag > environment variable > default):
  --port N                 listen port (SERVER_PORT, 8081; 0 picks a free port)
  --host ADDR              listen address (SERVER_HOST, 0.0.0.0)
  --name NAME              name in responses and logs (SERVER_NAME, backend-<port>)
  --log-level LEVEL        ${LOG_LEVELS.join(" | ")} (LOG_LEVEL, info)
  --log-format FORMAT      ${LOG_FORMATS.join(" | ")} (text)
  --shutdown-timeout D     time in-flight requests get to finish (10s)
  --help, --version

Endpoints:
  /                        request as text (whoami)      /api, /api/*  same as JSON
  /livez /healthz          200 ok                        /readyz   200, 503 when stopping
  /data?size=N             N bytes, streamed (1024)      /echo     request body back
  /stream?count=N&interval=D  server-sent events (10, 1s)
  /gzip                    gzip-encoded text             /cookies  two Set-Cookie headers
  /redirect?to=URL         302 to URL
  any path: ?wait=D delays the answer, ?status=N sets the status (200-599)

Durations take ms, s, m or h suffixes: 250ms, 5s, 1m.
`;
