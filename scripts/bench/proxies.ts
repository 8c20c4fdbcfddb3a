/**
 * How each kind of benchmark target is started: the lb (main.ts), NGINX,
 * HAProxy, and the one-file Deno relays. Each runs under the benchmark's
 * `Processes` (so it is stopped whatever happens), on the proxy's
 * CPUs with `--pin`, and counts as started once it listens; one that cannot
 * run here throws {@link SkipTarget} with the reason.
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import { haproxyConfig, nginxProxyConfig, type TlsFiles } from "./configs.ts";
import { pinned } from "./pinning.ts";
import { lbRunFlags } from "../lb_task.ts";
import { freePort, type Proc, ProcessExited, waitForPort } from "./processes.ts";

/** A target's name in the tables: `lb` for one worker, `lb-w2` for two. */
export function workerLabel(name: string, workers: number): string {
  return workers === 1 ? name : `${name}-w${workers}`;
}

/** A running target. */
export interface Target {
  /** The table name: `lb`, `nginx`, … or `lb-w2` and the like. */
  readonly name: string;
  readonly port: number;
  /** The proxy process, root of the tree whose memory is sampled; none for `direct`. */
  readonly proc?: Proc;
  /** The proxy's resident memory once it answered its check request, idle, in MiB. */
  readonly startRssMiB?: number;
  /** The lb's `--admin-port` (lb targets only). */
  readonly adminPort?: number;
  /** Header lines every request to it sends (`Name: value`): a policy's credentials. */
  readonly headers?: readonly string[];
  /** The edge-policy variant it runs (`lb+<policy>` targets, policy_targets.ts). */
  readonly policy?: string;
}

/** The target cannot run here; the message says why and what to do. */
export class SkipTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkipTarget";
  }
}

/** Options for {@link startLb}. */
export interface LbOptions {
  /** `--front`, `--transport` and the like (targets.ts has each lb target's). */
  readonly flags: readonly string[];
  /** Serve HTTPS with these files (`--tls-cert`/`--tls-key`). */
  readonly tls?: TlsFiles;
}

/**
 * Starts main.ts as target `name` (a table name: `lb`, `lb-w2`). A command
 * line the lb rejects (exit status 2: a flag such as `--front` or
 * `--workers` not there yet) makes it a {@link SkipTarget}, with the lb's
 * own message.
 */
export async function startLb(
  name: string,
  env: BenchEnv,
  urls: readonly string[],
  o: LbOptions,
): Promise<Target> {
  const [port, adminPort] = [freePort(), freePort()];
  const tag = o.tls ? `${name}-tls` : name;
  // The lb runs as `deno task lb` runs it (its flags read from deno.json),
  // from the repository root so deno.json (and its `no-legacy-abort`) applies.
  const proc = env.procs.start(
    tag,
    pinned(env.pin, "proxy", [
      Deno.execPath(),
      "run",
      ...lbRunFlags(env.root),
      "main.ts",
      ...o.flags,
      ...["--host", "127.0.0.1", "--port", String(port)],
      ...["--admin-port", String(adminPort), "--backends", urls.join(",")],
      ...(o.tls ? ["--tls-cert", o.tls.certFile, "--tls-key", o.tls.keyFile] : []),
      ...["--log-level", "warning"],
    ]),
    { cwd: env.root, logFile: `${env.tmp}/${tag}.log` },
  );
  const command = [...o.flags, ...(o.tls ? ["--tls-cert", "…", "--tls-key", "…"] : [])].join(" ");
  try {
    await waitForPort(proc, port);
  } catch (err) {
    if (err instanceof ProcessExited && err.exitCode === 2) {
      throw new SkipTarget(`main.ts does not accept ${command} (yet): ${err.message}`);
    }
    throw new SkipTarget(`main.ts ${command} did not start: ${errorText(err)}`);
  }
  return { name, port, proc, adminPort };
}

/** Options for {@link startNginxProxy}. */
export interface NginxTargetOptions {
  /** Serve HTTPS with HTTP/2 from these files. */
  readonly tls?: TlsFiles;
  /** `worker_processes` (1). */
  readonly workers?: number;
}

/** Starts NGINX as a proxy in front of `backends`; with `tls`, on HTTPS with HTTP/2. */
export async function startNginxProxy(
  env: BenchEnv,
  backends: Backends,
  o: NginxTargetOptions = {},
): Promise<Target> {
  if (!env.nginx) {
    throw new SkipTarget("nginx is not installed (apt-get install nginx-light)");
  }
  const { tls, workers = 1 } = o;
  const label = workerLabel("nginx", workers);
  const prefix = `${env.tmp}/${label}-proxy${tls ? "-tls" : ""}`;
  await Deno.mkdir(prefix, { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    nginxProxyConfig(prefix, { port, upstreams: backends.addrs, tls, workers }),
  );
  // Pinning the master is enough: the workers it forks inherit its CPUs.
  const proc = env.procs.start(
    tls ? `${label}-tls` : label,
    pinned(env.pin, "proxy", [
      env.nginx,
      ...["-p", prefix, "-e", `${prefix}/error.log`, "-c", `${prefix}/nginx.conf`],
    ]),
    { logFile: `${prefix}/error.log` },
  );
  return await started(proc, port, label);
}

/** Starts HAProxy (one thread) in front of `backends`. */
export async function startHaproxy(env: BenchEnv, backends: Backends): Promise<Target> {
  if (!env.haproxy) {
    throw new SkipTarget("haproxy is not installed (apt-get install haproxy)");
  }
  const port = freePort();
  const config = `${env.tmp}/haproxy.cfg`;
  await Deno.writeTextFile(config, haproxyConfig({ port, upstreams: backends.addrs }));
  // -db: stay in the foreground, one process, no master.
  const proc = env.procs.start(
    "haproxy",
    pinned(env.pin, "proxy", [env.haproxy, "-db", "-f", config]),
    {
      logFile: `${env.tmp}/haproxy.log`,
    },
  );
  return await started(proc, port, "haproxy");
}

/**
 * Starts one of the Deno programs that take only `--port` and `--backends`
 * (the relays, the fetch proxy) as target `name`.
 */
export async function startScript(
  name: string,
  script: string,
  env: BenchEnv,
  urls: readonly string[],
): Promise<Target> {
  const port = freePort();
  const proc = env.procs.start(
    name,
    pinned(env.pin, "proxy", [
      Deno.execPath(),
      "run",
      "--allow-net",
      script,
      ...["--port", String(port), "--backends", urls.join(",")],
    ]),
    { cwd: env.root, logFile: `${env.tmp}/${name}.log` },
  );
  return await started(proc, port, name);
}

async function started(proc: Proc, port: number, name: string): Promise<Target> {
  try {
    await waitForPort(proc, port);
  } catch (err) {
    throw new SkipTarget(`${name} did not start: ${errorText(err)}`);
  }
  return { name, port, proc };
}

/** The message of `err`, whatever was thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
