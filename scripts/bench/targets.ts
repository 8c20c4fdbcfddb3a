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
 * How each kind of proxy process is started is in proxies.ts.
 *
 * `lb` and `nginx` also run with several workers (`--workers N`,
 * `worker_processes N`) as `lb-wN` and `nginx-wN`; with `--pin` every
 * target runs on the proxy's CPUs (scripts/bench/pinning.ts).
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import { SMALL_BODY_BYTES, TEN_ROUTES } from "./configs.ts";
import { processTree, rssKiB, stop, waitForListeners } from "./processes.ts";
import {
  errorText,
  SkipTarget,
  startHaproxy,
  startLb,
  startNginxProxy,
  startScript,
  type Target,
  workerLabel,
} from "./proxies.ts";

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
  lb: "main.ts --front h1 --transport h1 (lb-wN: with --workers N)",
  "lb-routes":
    "lb with a ten-route config (scripts/bench/configs.ts): nine that miss, then match-all",
  "lb-deno-serve": "main.ts --front deno-serve --transport h1",
  "lb-node-http": "main.ts --front h1 --transport node-http (only with --targets)",
  "relay-listen": "scripts/bench/relay_listen.ts: Deno.listen + pooled Deno.connect (lb's ceiling)",
  "relay-serve": "scripts/bench/relay_serve.ts: Deno.serve + pooled Deno.connect " +
    "(lb-deno-serve's ceiling)",
  "fetch-proxy": "scripts/bench/fetch_proxy.ts (Deno.serve + fetch baseline)",
  nginx: "NGINX, one worker, upstream keepalive (nginx-wN: N workers, listen … reuseport)",
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

/** The targets that also run with several workers, as `<name>-w<N>`. */
export const WORKER_TARGETS: readonly TargetName[] = ["lb", "nginx"];

/** Options for {@link startTarget}. */
export interface StartTargetOptions {
  /** Worker processes or threads (1); only for {@link WORKER_TARGETS}. */
  readonly workers?: number;
}

/**
 * Starts `name` in front of `backends` and checks that it answers `GET /`
 * (and, with several workers, that each has its own listener).
 */
export async function startTarget(
  name: TargetName,
  env: BenchEnv,
  backends: Backends,
  o: StartTargetOptions = {},
): Promise<Target> {
  const workers = o.workers ?? 1;
  if (workers !== 1 && !WORKER_TARGETS.includes(name)) {
    throw new Error(`target ${name} has no worker variants (only ${WORKER_TARGETS.join(", ")})`);
  }
  const target = await launch(name, env, backends, workers);
  try {
    await smokeCheck(target);
    if (workers > 1) await checkListeners(target, workers);
  } catch (err) {
    if (target.proc) await stop(target.proc);
    throw err;
  }
  const startRssMiB = target.proc ? rssKiB(processTree(target.proc.pid)) / 1024 : undefined;
  return startRssMiB === undefined ? target : { ...target, startRssMiB };
}

/**
 * Several workers must mean several listeners on the port (`SO_REUSEPORT`,
 * one per worker): an lb that accepts `--workers 2` but still serves from
 * one thread would otherwise be measured as if it had two.
 */
async function checkListeners(target: Target, workers: number): Promise<void> {
  const seen = await waitForListeners(target.port, workers);
  if (seen < workers) {
    throw new SkipTarget(
      `${target.name}: ${seen} socket(s) listen on port ${target.port}, expected ${workers} ` +
        "(one per worker, reusePort); the workers are not there (yet)",
    );
  }
}

async function launch(
  name: TargetName,
  env: BenchEnv,
  backends: Backends,
  workers: number,
): Promise<Target> {
  const urls = backends.addrs.map((a) => `http://${a}`);
  const label = workerLabel(name, workers);
  const lb = LB_FLAGS[name];
  // `--workers` only when asked for, so lb targets run on an lb without the flag.
  const flags = lb && workers > 1 ? [...lb, "--workers", String(workers)] : lb;
  if (flags && name === "lb-routes") {
    const config = `${env.tmp}/ten-routes.json`;
    await Deno.writeTextFile(config, JSON.stringify(TEN_ROUTES, null, 2));
    return await startLb(label, env, urls, { flags: [...flags, "--config", config] });
  }
  if (flags) return await startLb(label, env, urls, { flags });
  const script = SCRIPTS[name];
  if (script) return await startScript(name, script, env, urls);
  switch (name) {
    case "direct":
      return { name, port: Number(backends.addrs[0].split(":")[1]) };
    case "nginx":
      return await startNginxProxy(env, backends, { workers });
    case "haproxy":
      return await startHaproxy(env, backends);
    default:
      throw new Error(`no way to start target ${name}`);
  }
}

/** The `--front …` flags of an lb target; undefined for the others. */
export function lbFlags(name: TargetName): readonly string[] | undefined {
  return LB_FLAGS[name];
}

/**
 * One `GET /` through the target, sending `headers` (a policy's
 * credentials), must come back 200 with the backend's 100-byte body.
 */
export async function smokeCheck(
  target: Target,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  using client = Deno.createHttpClient({});
  try {
    const res = await fetch(`http://127.0.0.1:${target.port}/`, {
      client,
      headers,
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
