/**
 * `deno task compile`: builds `dist/lb` and `dist/backend` with the narrowest
 * permissions that work: network, only the environment variables each
 * program reads, and for lb reading files (its `--config`). `deno compile` downloads its `denort` runtime; where that
 * host is unreachable set `DENORT_BIN=/path/to/denort` (same Deno version).
 *
 * @module
 */

import { LB_ENV_VARS } from "../lib/config/parse.ts";
import { BACKEND_ENV_VARS } from "../lib/backend/config.ts";
import { lbRuntimeFlags } from "./lb_task.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const targets = [
  { entry: "main.ts", output: "dist/lb", env: LB_ENV_VARS },
  { entry: "backend.ts", output: "dist/backend", env: BACKEND_ENV_VARS },
];

for (const { entry, output, env } of targets) {
  const args = [
    "compile",
    "--allow-net",
    `--allow-env=${env.join(",")}`,
    // lb reads (and watches) its --config file, whose path is the operator's choice,
    // node:dns's setServers() (--dns-server) reads the system's DNS servers, and
    // --access-log-file writes where the operator says.
    ...(entry === "main.ts"
      ? ["--allow-read", "--allow-write", "--allow-sys=networkInterfaces"]
      : []),
    // --workers starts this module in each worker thread, and basic auth its bcrypt
    // thread with the other; nothing imports them statically.
    ...(entry === "main.ts"
      ? [
        "--include",
        "lib/server/worker_thread.ts",
        "--include",
        "lib/policy/auth_bcrypt_worker.ts",
      ]
      : []),
    // The runtime flags `deno task lb` runs with (no code cache, V8 flags):
    // memory choices measured in docs/benchmarks.md.
    ...(entry === "main.ts" ? lbRuntimeFlags(ROOT) : []),
    "--unstable-no-legacy-abort",
    // reusePort: --workers share the port, and a TLS listener rebinds with a reloaded certificate.
    "--unstable-net",
    "--output",
    output,
    entry,
  ];
  console.log(`deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(
      `compile: building ${output} failed (exit ${code}). If the denort download is blocked, ` +
        "set DENORT_BIN to a denort binary of the same Deno version.",
    );
    Deno.exit(code);
  }
}
console.log("built dist/lb and dist/backend");
