/**
 * `lb`: the load balancer's entry point. Parses the command line, sets up
 * logging, starts the load balancer and turns SIGTERM/SIGINT into a
 * graceful shutdown. All logic lives in `lib/`.
 *
 * @module
 */

import { runCli } from "./lib/config/cli.ts";
import { loadConfigFile } from "./lib/config/file.ts";
import { configPath, LB_ENV_VARS, parseLbArgs } from "./lib/config/parse.ts";
import { LB_USAGE } from "./lib/config/usage.ts";
import { describeConfig } from "./lib/config/describe.ts";
import { Reloader } from "./lib/server/reloader.ts";
import { startLoadBalancer } from "./lib/server/lb.ts";
import { closeLogging, log, setupLogging } from "./lib/core/logging.ts";
import { onReopen, onTerminate } from "./lib/server/signals.ts";
import { VERSION } from "./lib/core/version.ts";
import { replayMain } from "./lib/replay/cli.ts";

/** Runs `lb` with the given arguments and environment. */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  // A subcommand with flags of its own: it starts nothing and reads no environment.
  if (args[0] === "replay") return await replayMain(args.slice(1), env);
  const path = configPath(args, env);
  const file = path ? await loadConfigFile(path) : undefined;
  const command = parseLbArgs(args, env, undefined, file);
  if (command.kind === "help") return void console.log(LB_USAGE);
  if (command.kind === "version") return void console.log(`lb ${VERSION}`);
  if (command.kind === "check") {
    return void console.log(
      `${path ?? "command line"}: configuration is valid: ${describeConfig(command.config)}`,
    );
  }
  const { config } = command;
  await setupLogging({
    category: "lb",
    level: config.logLevel,
    format: config.logFormat,
    accessLog: config.accessLog,
  });
  const logger = log("lb");
  const lb = startLoadBalancer(config);
  try {
    await lb.ready;
  } catch (err) {
    logger.fatal("could not start: {error}", {
      error: err instanceof Error ? err.message : String(err),
    });
    await lb.shutdown();
    await closeLogging();
    Deno.exit(1);
  }
  const url = (a: Deno.NetAddr, scheme = "http") =>
    `${scheme}://${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`;
  // Values go into the text itself so the line reads the same in text and
  // JSON formats (JSON renders placeholders quoted); tests and scripts match it.
  const scheme = config.tls.certFile ? "https" : "http";
  const listening = `lb listening on ${url(lb.addr!, scheme)}, admin on ${url(lb.adminAddr)}`;
  logger.info(`${listening}: {summary}`, { summary: describeConfig(config) });
  const reloader = new Reloader({ lb, path, args, env, log: log("lb", "config") });
  reloader.start();
  // logrotate's postrotate sends SIGUSR1 once it has renamed the access log.
  const stopReopen = onReopen(() => void lb.reopenLogs());
  const stopSignals = onTerminate((signal) => {
    logger.info("{signal} received; shutting down (send it again to exit at once)", { signal });
    lb.shutdown().then(async (drained) => {
      await reloader.stop();
      stopSignals();
      stopReopen();
      // Non-zero when requests were cut off, so a supervisor can tell.
      logger.info(drained ? "shutdown complete" : "shutdown timed out; exiting");
      await closeLogging();
      Deno.exit(drained ? 0 : 1);
    });
  });
}

if (import.meta.main) {
  // Only the variables lb reads, so `--allow-env` can name them one by one.
  const env = Object.fromEntries(LB_ENV_VARS.map((name) => [name, Deno.env.get(name)]));
  await runCli("lb", () => main(Deno.args, env));
}
