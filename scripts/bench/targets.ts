/**
 * The benchmark's targets: what wrk is pointed at. Each is started once,
 * in front of the same backends, and checked with one request before any
 * measurement. A target that cannot run here (a program not installed, an
 * lb flag not there yet) is skipped with a reason, never fatal.
 *
 * The lb targets differ in `--front` (our own HTTP/1.1 server on
 * `Deno.listen`, or `Deno.serve`) and `--transport`; each front has a
 * ceiling relay (`relay-listen`, `relay-serve`) doing the least work a
 * relay on that runtime API can, so lb / relay is the lb's own cost.
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import {
  haproxyConfig,
  nginxProxyConfig,
  SMALL_BODY_BYTES,
  TEN_ROUTES,
  type TlsFiles,
} from "./configs.ts";
import { freePort, type Proc, ProcessExited, stop, waitForPort } from "./processes.ts";

/** Every target, in table order. */
export const TARGET_NAMES = [
  "direct",
  "lb",
  "lb-routes",
  "lb-deno-serve",
  "lb-node-http",
  "relay-listen",
  "relay-serve",
  "fetch-proxy",
  "nginx",
  "haproxy",
] as const;
/** A target name. */
export type TargetName = (typeof TARGET_NAMES)[number];

/**
 * What runs without `--targets`: all but `lb-node-http`, since the
 * comparison is between the two fronts, each against its ceiling relay.
 */
export const DEFAULT_TARGETS: readonly TargetName[] = TARGET_NAMES.filter((t) =>
  t !== "lb-node-http"
);

/** One line per target, for `--help` and the docs. */
export const TARGET_HELP: Readonly<Record<TargetName, string>> = {
  direct: "wrk straight at the first backend (the ceiling; no proxy)",
  lb: "main.ts --front h1 --transport h1",
  "lb-routes":
    "lb with a ten-route config (scripts/bench/configs.ts): nine that miss, then match-all",
  "lb-deno-serve": "main.ts --front deno-serve --transport h1",
  "lb-node-http": "main.ts --front h1 --transport node-http (only with --targets)",
  "relay-listen": "scripts/bench/relay_listen.ts: Deno.listen + pooled Deno.connect (lb's ceiling)",
  "relay-serve": "scripts/bench/relay_serve.ts: Deno.serve + pooled Deno.connect " +
    "(lb-deno-serve's ceiling)",
  "fetch-proxy": "scripts/bench/fetch_proxy.ts (Deno.serve + fetch baseline)",
  nginx: "NGINX, one worker, upstream keepalive",
  haproxy: "HAProxy, one thread, http-reuse always",
};

/** How each lb target runs main.ts. */
const LB_FLAGS: Readonly<Partial<Record<TargetName, readonly string[]>>> = {
  lb: ["--front", "h1", "--transport", "h1"],
  "lb-routes": ["--front", "h1", "--transport", "h1"],
  "lb-deno-serve": ["--front", "deno-serve", "--transport", "h1"],
  "lb-node-http": ["--front", "h1", "--transport", "node-http"],
};

/** The scripts of the targets that are one Deno program behind `--port` and `--backends`. */
const SCRIPTS: Readonly<Partial<Record<TargetName, string>>> = {
  "relay-listen": "scripts/bench/relay_listen.ts",
  "relay-serve": "scripts/bench/relay_serve.ts",
  "fetch-proxy": "scripts/bench/fetch_proxy.ts",
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
  const flags = LB_FLAGS[name];
  if (flags && name === "lb-routes") {
    const config = `${env.tmp}/ten-routes.json`;
    await Deno.writeTextFile(config, JSON.stringify(TEN_ROUTES, null, 2));
    return await startLb(name, env, urls, { flags: [...flags, "--config", config] });
  }
  if (flags) return await startLb(name, env, urls, { flags });
  const script = SCRIPTS[name];
  if (script) {
    const port = freePort();
    const proc = env.procs.start(name, [
      Deno.execPath(),
      "run",
      "--allow-net",
      script,
      "--port",
      String(port),
      "--backends",
      urls.join(","),
    ], { cwd: env.root, logFile: `${env.tmp}/${name}.log` });
    return await started(proc, port, name);
  }
  switch (name) {
    case "direct":
      return { name, port: Number(backends.addrs[0].split(":")[1]) };
    case "nginx":
      return await startNginxProxy(env, backends);
    case "haproxy":
      return await startHaproxy(env, backends);
    default:
      throw new Error(`no way to start target ${name}`);
  }
}

/** Options for {@link startLb}. */
export interface LbOptions {
  /** `--front` and `--transport`, as in {@link LB_FLAGS}. */
  readonly flags: readonly string[];
  /** Serve HTTPS with these files (`--tls-cert`/`--tls-key`). */
  readonly tls?: TlsFiles;
}

/** The `--front …` flags of an lb target; undefined for the others. */
export function lbFlags(name: TargetName): readonly string[] | undefined {
  return LB_FLAGS[name];
}

/**
 * Starts main.ts as target `name`. A command line the lb rejects (exit
 * status 2: a flag such as `--front` not there yet) makes it a
 * {@link SkipTarget}, with the lb's own message.
 */
export async function startLb(
  name: TargetName,
  env: BenchEnv,
  urls: readonly string[],
  o: LbOptions,
): Promise<Target> {
  const [port, adminPort] = [freePort(), freePort()];
  const tag = o.tls ? `${name}-tls` : name;
  // The lb runs with the permissions `deno task lb` gives it, from the
  // repository root so deno.json (and its `no-legacy-abort`) applies.
  const proc = env.procs.start(tag, [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys=networkInterfaces",
    "main.ts",
    ...o.flags,
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--admin-port", String(adminPort), "--backends", urls.join(",")],
    ...(o.tls ? ["--tls-cert", o.tls.certFile, "--tls-key", o.tls.keyFile] : []),
    ...["--log-level", "warning"],
  ], { cwd: env.root, logFile: `${env.tmp}/${tag}.log` });
  const command = [...o.flags, ...(o.tls ? ["--tls-cert", "…", "--tls-key", "…"] : [])].join(" ");
  try {
    await waitForPort(proc, port);
  } catch (err) {
    if (err instanceof ProcessExited && err.exitCode === 2) {
      throw new SkipTarget(`main.ts does not accept ${command} (yet): ${err.message}`);
    }
    throw new SkipTarget(`main.ts ${command} did not start: ${errorText(err)}`);
  }
  return { name, port, proc };
}

/** Starts NGINX as a proxy in front of `backends`; with `tls`, on HTTPS with HTTP/2. */
export async function startNginxProxy(
  env: BenchEnv,
  backends: Backends,
  tls?: TlsFiles,
): Promise<Target> {
  if (!env.nginx) {
    throw new SkipTarget("nginx is not installed (apt-get install nginx-light)");
  }
  const prefix = `${env.tmp}/nginx-proxy${tls ? "-tls" : ""}`;
  await Deno.mkdir(prefix, { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    nginxProxyConfig(prefix, { port, upstreams: backends.addrs, tls }),
  );
  const proc = env.procs.start(
    tls ? "nginx-tls" : "nginx",
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

/** The message of `err`, whatever was thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
