/**
 * The benchmark's targets: what wrk is pointed at. Each is started once,
 * in front of the same backends, and checked with one request before any
 * measurement. A target that cannot run here (a program not installed, an
 * lb transport not registered yet) is skipped with a reason, never fatal.
 *
 * @module
 */

import { type Backends, type BenchEnv } from "./backends.ts";
import { haproxyConfig, nginxProxyConfig, SMALL_BODY_BYTES } from "./configs.ts";
import { freePort, type Proc, ProcessExited, stop, waitForPort } from "./processes.ts";

/** Every target, in table order. */
export const TARGET_NAMES = [
  "direct",
  "lb-h1",
  "lb-node-http",
  "fetch-proxy",
  "nginx",
  "haproxy",
] as const;
/** A target name. */
export type TargetName = (typeof TARGET_NAMES)[number];

/** One line per target, for `--help` and the docs. */
export const TARGET_HELP: Readonly<Record<TargetName, string>> = {
  direct: "wrk straight at the first backend (the ceiling; no proxy)",
  "lb-h1": "main.ts --transport h1",
  "lb-node-http": "main.ts --transport node-http",
  "fetch-proxy": "scripts/bench/fetch_proxy.ts (Deno.serve + fetch baseline)",
  nginx: "NGINX, one worker, upstream keepalive",
  haproxy: "HAProxy, one thread, http-reuse always",
};

/** A running target. */
export interface Target {
  readonly name: TargetName;
  readonly port: number;
  /** The proxy process, root of the tree whose memory is sampled; none for `direct`. */
  readonly proc?: Proc;
}

/** The target cannot run here; the message says why and what to do. */
export class SkipTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkipTarget";
  }
}

/** Starts `name` in front of `backends` and checks that it answers `GET /`. */
export async function startTarget(
  name: TargetName,
  env: BenchEnv,
  backends: Backends,
): Promise<Target> {
  const target = await launch(name, env, backends);
  try {
    await smokeCheck(target);
  } catch (err) {
    if (target.proc) await stop(target.proc);
    throw err;
  }
  return target;
}

async function launch(name: TargetName, env: BenchEnv, backends: Backends): Promise<Target> {
  const urls = backends.addrs.map((a) => `http://${a}`);
  switch (name) {
    case "direct":
      return { name, port: Number(backends.addrs[0].split(":")[1]) };
    case "lb-h1":
      return await startLb(name, "h1", env, urls);
    case "lb-node-http":
      return await startLb(name, "node-http", env, urls);
    case "fetch-proxy": {
      const port = freePort();
      const proc = env.procs.start(name, [
        Deno.execPath(),
        "run",
        "--allow-net",
        "scripts/bench/fetch_proxy.ts",
        "--port",
        String(port),
        "--backends",
        urls.join(","),
      ], { cwd: env.root, logFile: `${env.tmp}/${name}.log` });
      await waitForPort(proc, port);
      return { name, port, proc };
    }
    case "nginx":
      return await startNginxProxy(env, backends);
    case "haproxy":
      return await startHaproxy(env, backends);
  }
}

async function startLb(
  name: TargetName,
  transport: string,
  env: BenchEnv,
  urls: string[],
): Promise<Target> {
  const [port, adminPort] = [freePort(), freePort()];
  // The lb runs with the flags `deno task lb` gives it, from the repository
  // root so deno.json (and its `no-legacy-abort`) applies.
  const proc = env.procs.start(name, [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-env",
    "main.ts",
    ...["--transport", transport, "--host", "127.0.0.1", "--port", String(port)],
    ...["--admin-port", String(adminPort), "--backends", urls.join(",")],
    ...["--log-level", "warning"],
  ], { cwd: env.root, logFile: `${env.tmp}/${name}.log` });
  try {
    await waitForPort(proc, port);
  } catch (err) {
    // Exit status 2 is the lb's "bad command line": this transport is not registered (yet).
    if (err instanceof ProcessExited && err.exitCode === 2) {
      throw new SkipTarget(`main.ts does not accept --transport ${transport} yet: ${err.message}`);
    }
    throw new SkipTarget(`main.ts --transport ${transport} did not start: ${errorText(err)}`);
  }
  return { name, port, proc };
}

async function startNginxProxy(env: BenchEnv, backends: Backends): Promise<Target> {
  if (!env.nginx) {
    throw new SkipTarget("nginx is not installed (apt-get install nginx-light)");
  }
  const prefix = `${env.tmp}/nginx-proxy`;
  await Deno.mkdir(prefix, { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    nginxProxyConfig(prefix, { port, upstreams: backends.addrs }),
  );
  const proc = env.procs.start(
    "nginx",
    [env.nginx, "-p", prefix, "-e", `${prefix}/error.log`, "-c", `${prefix}/nginx.conf`],
    { logFile: `${prefix}/error.log` },
  );
  return await started(proc, port, "nginx");
}

async function startHaproxy(env: BenchEnv, backends: Backends): Promise<Target> {
  if (!env.haproxy) {
    throw new SkipTarget("haproxy is not installed (apt-get install haproxy)");
  }
  const port = freePort();
  const config = `${env.tmp}/haproxy.cfg`;
  await Deno.writeTextFile(config, haproxyConfig({ port, upstreams: backends.addrs }));
  // -db: stay in the foreground, one process, no master.
  const proc = env.procs.start("haproxy", [env.haproxy, "-db", "-f", config], {
    logFile: `${env.tmp}/haproxy.log`,
  });
  return await started(proc, port, "haproxy");
}

async function started(proc: Proc, port: number, name: TargetName): Promise<Target> {
  try {
    await waitForPort(proc, port);
  } catch (err) {
    throw new SkipTarget(`${name} did not start: ${errorText(err)}`);
  }
  return { name, port, proc };
}

/** One `GET /` through the target must come back 200 with the backend's 100-byte body. */
async function smokeCheck(target: Target): Promise<void> {
  using client = Deno.createHttpClient({});
  try {
    const res = await fetch(`http://127.0.0.1:${target.port}/`, {
      client,
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.bytes();
    if (res.status !== 200 || body.byteLength !== SMALL_BODY_BYTES) {
      throw new Error(`answered ${res.status} with ${body.byteLength} bytes`);
    }
  } catch (err) {
    throw new SkipTarget(`${target.name} failed its check request (GET /): ${errorText(err)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
