/**
 * The load balancer's configuration: one pure function from command-line
 * arguments, environment and the config file to a validated, immutable
 * {@link LbConfig}. Which flags exist, their defaults and their precedence
 * come from the option table (`options.ts`, `values.ts`); this module puts
 * the pieces together (global settings, pools, routes) and reports every
 * problem at once, each naming where the bad value came from.
 *
 * @module
 */

import { type Options, parseFlags, Problems } from "./cli.ts";
import { type ConfigFile, YAML_ENV_VARS } from "./file.ts";
import { buildGlobal } from "./global.ts";
import { OPTION_NAMES, optionSpec } from "./options.ts";
import { buildPools } from "./pool.ts";
import { buildRoutes } from "./routes.ts";
import { otlpExport, withTraceExport } from "./policies/tracing.ts";
import type { LbConfig } from "./types.ts";
import { OptionReader } from "./values.ts";

export { parseBackends } from "./backends.ts";
export type { LbConfig };

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
  return env[optionSpec("config").env!] || undefined;
}

/** What the command line asked for: run, check, or print help or the version. */
export type LbCommand =
  | { readonly kind: "run"; readonly config: LbConfig }
  | { readonly kind: "help" }
  | { readonly kind: "check"; readonly config: LbConfig }
  | { readonly kind: "version" };

/** `parseArgs` options for every option in the table: switches are booleans, the rest strings. */
const FLAGS: Options = Object.fromEntries(
  OPTION_NAMES.map((name) => {
    const spec = optionSpec(name);
    const type = spec.kind.type === "boolean" ? "boolean" as const : "string" as const;
    return [name, spec.short ? { type, short: spec.short } : { type }];
  }),
);

/**
 * Environment variables read, for `--allow-env` lists and for passing only
 * these to {@link parseLbArgs}: the options' (see `options.ts`), and the
 * YAML parser's own, which it reads whenever it parses.
 */
export const LB_ENV_VARS: readonly string[] = [
  ...OPTION_NAMES.flatMap((name) => optionSpec(name).env ?? []),
  ...YAML_ENV_VARS,
];

/**
 * Parses `lb`'s command line, environment and (already loaded) config
 * file. Throws a `UsageError` listing every problem. Pure: reads nothing
 * but its arguments. `randomSecret` is called once, for the sticky secret
 * of pools that configure none; a reload passes one returning the running
 * config's `generatedStickySecret`.
 */
export function parseLbArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  randomSecret: () => string = () => crypto.randomUUID(),
  file?: ConfigFile,
): LbCommand {
  const flags = parseFlags(args, FLAGS);
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };
  const p = new Problems();
  const layers = { flags, env, file };
  const reader = new OptionReader(p, layers);
  const global = buildGlobal(p, reader);
  const secret = randomSecret();
  const { pools, settings } = buildPools(p, layers, secret);
  // Tracing needs the process-wide exporter: off (and free) without --otlp-endpoint.
  const routes = withTraceExport(
    buildRoutes(p, file, pools.map((pool) => pool.name)),
    otlpExport({
      endpoint: reader.get("otlp-endpoint"),
      headers: reader.get("otlp-headers"),
      serviceName: reader.get("otlp-service-name"),
      queueSize: reader.get("otlp-queue-size"),
      batchSize: reader.get("otlp-batch-size"),
      intervalMs: reader.get("otlp-interval"),
      timeoutMs: reader.get("otlp-timeout"),
    }),
  );
  p.throwIfAny();
  const config: LbConfig = {
    ...global,
    generatedStickySecret: secret,
    pools,
    routes,
    settings: { "": reader.settings("global"), ...settings },
  };
  return { kind: flags.check === true ? "check" : "run", config };
}
