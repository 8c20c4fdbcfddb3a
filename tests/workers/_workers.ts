/**
 * Helpers of the `--workers` suites: the real lb started with N worker
 * threads (optionally pinned to some CPUs), loopback backends that answer
 * their name and count what reached them, and readers for the admin's
 * `/status` workers and Prometheus sums. The clients (`_clients.ts`) are
 * re-exported, so a suite imports from here alone.
 *
 * @module
 */

import { FAST_FLAGS, type LbProcess, LOOPBACK_PORTS } from "../_lb.ts";
import { httpServer } from "../_http.ts";
import { startDeno } from "../_process.ts";

export * from "./_clients.ts";

/** The `--admin-token` of these suites (16+ characters). */
export const TOKEN = "workers-test-token-0123456789";

/** `--health-interval` in {@link FAST_FLAGS}, in milliseconds. */
export const HEALTH_INTERVAL_MS = 200;

const LISTEN = /lb listening on https?:\/\/([^\s,]+):(\d+), admin on http:\/\/[^\s,]+:(\d+)/;

/** How {@link startWorkersLb} starts lb. */
export interface WorkersLbOptions {
  /** `--workers` value; `"2"` by default; null for no flag (the env or the default decides). */
  readonly workers?: string | null;
  /** Flags after {@link FAST_FLAGS} and `--workers`. */
  readonly extra?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** A `taskset -c` CPU list: run lb pinned to those CPUs (through `_pinned.ts`). */
  readonly cpus?: string;
}

/**
 * Starts main.ts on loopback port 0 in front of `backends` with `--workers 2`
 * (see {@link WorkersLbOptions}) and resolves on its "lb listening" line,
 * which the contract prints once every worker serves.
 */
export async function startWorkersLb(
  backends: readonly string[],
  options: WorkersLbOptions = {},
): Promise<LbProcess> {
  const { workers = "2", extra = [], env, cpus } = options;
  const transport = Deno.env.get("LB_TEST_TRANSPORT");
  const args = [
    ...LOOPBACK_PORTS,
    ...(backends.length > 0 ? ["--backends", backends.join(",")] : []),
    ...(transport && !extra.includes("--transport") ? ["--transport", transport] : []),
    ...FAST_FLAGS,
    ...(workers === null ? [] : ["--workers", workers]),
    ...extra,
  ];
  const proc = cpus === undefined
    ? await startDeno("main.ts", args, { env, listenPattern: LISTEN })
    : await startDeno("tests/workers/_pinned.ts", [cpus, ...args], { env, listenPattern: LISTEN });
  const adminPort = Number(proc.match[3]);
  const stop = async () => (await proc.stop("SIGTERM")).code;
  return {
    proc,
    port: proc.port,
    adminPort,
    url: `http://127.0.0.1:${proc.port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

// --- backends --------------------------------------------------------------

/** A loopback backend answering `200` with its name. */
export interface NamedBackend extends AsyncDisposable {
  readonly name: string;
  readonly origin: string;
  /** Requests that reached it so far (health checks are TCP connects and count nothing). */
  readonly count: () => number;
  /** Shuts it down: the port refuses connections afterwards. */
  close(): Promise<void>;
}

/** Starts a {@link NamedBackend} that waits `delayMs` (0 by default) before answering. */
export function namedBackend(name: string, { delayMs = 0 } = {}): NamedBackend {
  let count = 0;
  const server = httpServer(async () => {
    count++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return new Response(name);
  });
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.server.shutdown();
  return {
    name,
    origin: server.origin,
    count: () => count,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// --- the admin listener ----------------------------------------------------

/** One entry of `workers` in `/status` and `GET /api/workers`. */
export interface WorkerEntry {
  readonly id: number;
  readonly state: "running" | "starting";
  readonly requests: number;
  readonly restarts: number;
  readonly startedAt: string;
}

/** The parts of `/status` these suites read. */
export interface WorkersStatus {
  readonly workers: WorkerEntry[];
  readonly backends: { readonly url: string; readonly state: string }[];
}

/** The admin's `/status`. */
export async function lbStatus(lb: LbProcess): Promise<WorkersStatus> {
  const res = await fetch(`${lb.adminUrl}/status`);
  if (res.status !== 200) throw new Error(`/status answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

/** `/status`'s workers. */
export async function workers(lb: LbProcess): Promise<WorkerEntry[]> {
  return (await lbStatus(lb)).workers;
}

/** The contract's fields of each entry (lb may add more, such as heap sizes that change by the second). */
export function contractFields(entries: readonly WorkerEntry[]): WorkerEntry[] {
  return entries.map(({ id, state, requests, restarts, startedAt }) => ({
    id,
    state,
    requests,
    restarts,
    startedAt,
  }));
}

/** Sum of `requests` over `entries`. */
export function totalRequests(entries: readonly WorkerEntry[]): number {
  return entries.reduce((n, w) => n + w.requests, 0);
}

/** An admin request with the bearer token (or `auth: null` for none); the body parsed as JSON when it is. */
export async function admin(
  lb: LbProcess,
  method: string,
  path: string,
  { auth = true } = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${TOKEN}` } : {};
  const res = await fetch(`${lb.adminUrl}${path}`, { method, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The admin's `/metrics` text. */
export async function metricsText(lb: LbProcess): Promise<string> {
  return await (await fetch(`${lb.adminUrl}/metrics`)).text();
}

/** Every sample of `name` as `[labels, value]`. */
export function samplesOf(text: string, name: string): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    out.push([labels, Number(m[3])]);
  }
  return out;
}

/** The sum of `name`'s samples whose labels include all of `labels` (0 when none). */
export function metricSum(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samplesOf(text, name)
    .filter(([l]) => Object.entries(labels).every(([k, v]) => l[k] === v))
    .reduce((sum, [, v]) => sum + v, 0);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
