/**
 * `backend`: a demo HTTP server to put behind the load balancer. It answers
 * whoami/httpbin-style endpoints (see `lib/backend/app.ts`), prints one
 * `listening on http://HOST:PORT` line with the port actually bound, and
 * shuts down gracefully on SIGTERM/SIGINT: `/readyz` fails, the listener
 * closes, in-flight requests get `--shutdown-timeout` to finish.
 *
 * @module
 */

import { runCli } from "./lib/config/cli.ts";
import { closeLogging, log, setupLogging } from "./lib/core/logging.ts";
import { onTerminate, shutdownWithin } from "./lib/server/signals.ts";
import { formatDuration } from "./lib/core/duration.ts";
import { backendName, parseBackendConfig } from "./lib/backend/config.ts";
import { type BackendApp, createBackendHandler } from "./lib/backend/app.ts";

/** Runs the backend until a termination signal; returns once it is listening. */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const command = parseBackendConfig(args, env);
  if (command.kind !== "run") {
    console.log((command.kind === "help" ? command.usage : command.version).trimEnd());
    return;
  }
  const { config } = command;

  await setupLogging({ category: "backend", level: config.logLevel, format: config.logFormat });
  const logger = log("backend");
  // The name may depend on the bound port, known only in onListen; no request
  // can arrive before onListen has run, so the handler is always set by then.
  let app: BackendApp | undefined;
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen(addr) {
      const name = backendName(config, addr.port);
      app = createBackendHandler({ name });
      // Scripts and tests wait for this exact line; keep its shape stable.
      const url = `http://${hostPort(addr.hostname, addr.port)}`;
      logger.info(literal(`backend ${name} listening on ${url}`));
    },
    onError(err) {
      logger.error("request failed: {error}", { error: err });
      return new Response("internal error", { status: 500 });
    },
  }, (req, info) => {
    logger.debug("request {method} {url}", { method: req.method, url: req.url });
    return app!.handler(req, info);
  });

  onTerminate(async (signal) => {
    const grace = formatDuration(config.shutdownTimeoutMs);
    logger.info(`${signal}: shutting down, in-flight requests get ${grace}`);
    app?.setShuttingDown();
    const drained = await shutdownWithin(server, config.shutdownTimeoutMs);
    if (drained) logger.info("stopped");
    else logger.warning("shutdown timeout passed; abandoning in-flight requests");
    await closeLogging();
    // Exit non-zero when requests were cut off, so supervisors and tests can tell.
    Deno.exit(drained ? 0 : 1);
  });
}

/** Escapes LogTape's `{placeholder}` braces, e.g. in a `--name`. */
function literal(message: string): string {
  return message.replace(/[{}]/g, "$&$&");
}

function hostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

if (import.meta.main) {
  await runCli("backend", () => main(Deno.args, Deno.env.toObject()));
}
