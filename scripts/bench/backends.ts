/**
 * The three fast backends every target proxies to: one NGINX process
 * serving three ports when NGINX is installed, else three
 * `deno_backend.ts` processes.
 *
 * @module
 */

import { LARGE_BODY_BYTES, nginxBackendConfig } from "./configs.ts";
import { freePort, type Proc, type Processes, waitForPort } from "./processes.ts";

/** What the benchmark needs from its surroundings. */
export interface BenchEnv {
  readonly procs: Processes;
  /** A private temp dir, removed at the end. */
  readonly tmp: string;
  /** The repository root (where `main.ts` and `deno.json` are). */
  readonly root: string;
  /** Absolute paths of the optional programs, when installed. */
  readonly nginx?: string;
  readonly haproxy?: string;
}

/** Which server implements the backends. */
export type BackendKind = "nginx" | "deno";

/** The running backends. */
export interface Backends {
  readonly kind: BackendKind;
  /** `127.0.0.1:port` of each. */
  readonly addrs: readonly string[];
}

/** Number of backends behind every proxy. */
export const BACKEND_COUNT = 3;

/** Starts the backends; `kind` must be `deno` when NGINX is not installed. */
export async function startBackends(env: BenchEnv, kind: BackendKind): Promise<Backends> {
  const ports = Array.from({ length: BACKEND_COUNT }, freePort);
  const addrs = ports.map((p) => `127.0.0.1:${p}`);
  if (kind === "nginx") {
    if (!env.nginx) throw new Error("NGINX backends asked for, but nginx is not installed");
    await startNginxBackends(env, env.nginx, ports);
  } else {
    const procs = ports.map((port) =>
      env.procs.start(`deno-backend-${port}`, [
        Deno.execPath(),
        "run",
        "--allow-net",
        "scripts/bench/deno_backend.ts",
        "--port",
        String(port),
      ], { cwd: env.root, logFile: `${env.tmp}/deno-backend-${port}.log` })
    );
    await Promise.all(procs.map((proc, i) => waitForPort(proc, ports[i])));
  }
  return { kind, addrs };
}

async function startNginxBackends(env: BenchEnv, nginx: string, ports: number[]): Promise<Proc> {
  const prefix = `${env.tmp}/nginx-backend`;
  const root = `${prefix}/www`;
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeFile(`${root}/1m`, new Uint8Array(LARGE_BODY_BYTES).fill(0x78));
  const conf = nginxBackendConfig({ prefix, root, ports, sinkPort: freePort() });
  await Deno.writeTextFile(`${prefix}/nginx.conf`, conf);
  const proc = env.procs.start(
    "nginx-backend",
    [nginx, "-p", prefix, "-e", `${prefix}/error.log`, "-c", `${prefix}/nginx.conf`],
    // NGINX appends to error.log itself; its stdout/stderr go to the same file.
    { logFile: `${prefix}/error.log` },
  );
  for (const port of ports) await waitForPort(proc, port);
  return proc;
}
