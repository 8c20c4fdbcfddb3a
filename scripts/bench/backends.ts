/**
 * The three fast backends every target proxies to: one NGINX process
 * serving three ports when NGINX is installed (plus the `drain.ts`
 * process its `/big-upload` streams to, see configs.ts), else three
 * `deno_backend.ts` processes.
 *
 * @module
 */

import { HUGE_BODY_BYTES, LARGE_BODY_BYTES, nginxBackendConfig, textBody } from "./configs.ts";
import { pinned, type PinPlan } from "./pinning.ts";
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
  /** With `--pin`: which CPUs the load side and the proxy run on. */
  readonly pin?: PinPlan;
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
    await Promise.all(ports.map((port) => startDenoBackend(env, port)));
  }
  return { kind, addrs };
}

/** One `deno_backend.ts` process on `port`. */
async function startDenoBackend(env: BenchEnv, port: number): Promise<Proc> {
  const proc = env.procs.start(
    `deno-backend-${port}`,
    pinned(env.pin, "load", [
      Deno.execPath(),
      "run",
      "--allow-net",
      "scripts/bench/deno_backend.ts",
      "--port",
      String(port),
    ]),
    { cwd: env.root, logFile: `${env.tmp}/deno-backend-${port}.log` },
  );
  await waitForPort(proc, port);
  return proc;
}

async function startNginxBackends(env: BenchEnv, nginx: string, ports: number[]): Promise<Proc> {
  const prefix = `${env.tmp}/nginx-backend`;
  const root = `${prefix}/www`;
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeFile(`${root}/1m`, new Uint8Array(LARGE_BODY_BYTES).fill(0x78));
  await Deno.writeTextFile(`${root}/text`, textBody());
  // Sparse: 256 MiB of zeros that take no disk and no memory until read.
  await Deno.writeFile(`${root}/256m`, new Uint8Array(0));
  await Deno.truncate(`${root}/256m`, HUGE_BODY_BYTES);
  // What /big-upload streams to: something that reads a 256 MiB body whole before answering.
  const drainPort = freePort();
  const drain = env.procs.start(
    "drain",
    pinned(env.pin, "load", [
      Deno.execPath(),
      "run",
      "--allow-net",
      "scripts/bench/drain.ts",
      "--port",
      String(drainPort),
    ]),
    { cwd: env.root, logFile: `${env.tmp}/drain.log` },
  );
  await waitForPort(drain, drainPort);
  const conf = nginxBackendConfig({ prefix, root, ports, sinkPort: freePort(), drainPort });
  await Deno.writeTextFile(`${prefix}/nginx.conf`, conf);
  const proc = env.procs.start(
    "nginx-backend",
    pinned(env.pin, "load", [
      nginx,
      ...["-p", prefix, "-e", `${prefix}/error.log`, "-c", `${prefix}/nginx.conf`],
    ]),
    // NGINX appends to error.log itself; its stdout/stderr go to the same file.
    { logFile: `${prefix}/error.log` },
  );
  for (const port of ports) await waitForPort(proc, port);
  return proc;
}
