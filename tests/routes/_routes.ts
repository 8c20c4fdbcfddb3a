/**
 * Helpers for the route, mirror and config-file suites: loopback backends
 * that record what reached them and answer with their name (optionally
 * after a delay that {@link TestBackend.release} cuts short, so no test
 * waits out a slow backend on its way out), an lb run in-process through
 * `mod.ts`, and a reader for Prometheus counters.
 *
 * @module
 */

import {
  type AccessRecord,
  type LbOptions,
  type LoadBalancer,
  parseConfig,
  startLoadBalancer,
} from "../../mod.ts";
import { FAST_FLAGS } from "../_lb.ts";

// --- backends --------------------------------------------------------------

/** One request as a backend received it. */
export interface Seen {
  readonly method: string;
  /** Path and query, as the backend was asked for them. */
  readonly path: string;
  readonly body: string;
  readonly host: string | null;
  readonly at: number;
}

/** What a test backend answers: its name and what it was asked (JSON). */
export interface Echo {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** A loopback `Deno.serve` backend. */
export interface TestBackend extends AsyncDisposable {
  readonly name: string;
  readonly origin: string;
  readonly port: number;
  /** Every request so far, in arrival order (recorded before any delay). */
  readonly seen: Seen[];
  /** Answers every request still delayed, now, and stops delaying new ones. */
  release(): void;
  /** Releases, then shuts the server down. */
  close(): Promise<void>;
}

/**
 * Starts a backend called `name` that answers `200` with an {@link Echo}
 * after `delayMs` (0 by default). The echo carries the body whole, so two
 * answers are equal exactly when the requests that reached it were.
 */
export function backend(name: string, { delayMs = 0 } = {}): TestBackend {
  const seen: Seen[] = [];
  const released = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    const body = await req.text();
    seen.push({ method: req.method, path, body, host: req.headers.get("host"), at: Date.now() });
    if (delayMs > 0) await sleep(delayMs, released.signal);
    const echo: Echo = { name, method: req.method, path, body };
    return Response.json(echo, { headers: { "x-backend": name } });
  });
  const close = async () => {
    released.abort();
    await server.shutdown();
  };
  return {
    name,
    origin: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    seen,
    release: () => released.abort(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** An origin where nothing listens (a port bound, then freed). */
export function deadOrigin(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

// --- the lb in-process -----------------------------------------------------

/** Loopback listeners on port 0, and the fast health flags of `_lb.ts`, as config keys. */
export const BASE_CONFIG: Readonly<Record<string, unknown>> = {
  host: "127.0.0.1",
  port: 0,
  "admin-host": "127.0.0.1",
  "admin-port": 0,
  ...flagsAsKeys(FAST_FLAGS),
};

function flagsAsKeys(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flags.length; i += 2) out[flags[i].replace(/^--/, "")] = flags[i + 1];
  return out;
}

/** A client's view of one answer. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
  /** Milliseconds from sending to the body read whole. */
  readonly ms: number;
  /** The body as an {@link Echo} (throws if it is not one). */
  echo(): Echo;
}

/** What {@link send} puts in a request. */
export interface Send {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array<ArrayBuffer> | string;
}

/** An lb started in-process with `listen: false`. */
export interface InProcessLb extends AsyncDisposable {
  readonly lb: LoadBalancer;
  readonly adminUrl: string;
  /** Every access record so far (the `onLog` hook), in completion order. */
  readonly records: AccessRecord[];
  /**
   * Sends `url` (absolute: its authority becomes `Host`) through
   * `lb.handle`, with `Content-Length` set for a body so the lb can buffer
   * it as it would a client's.
   */
  send(url: string, init?: Send): Promise<Answer>;
  /** The admin listener's `/metrics`. */
  metrics(): Promise<string>;
  /** The admin listener's `/status`. */
  status(): Promise<StatusReport>;
}

/** The parts of `/status` these suites read. */
export interface StatusReport {
  readonly ready: boolean;
  readonly pools: {
    readonly name: string;
    readonly strategy: string;
    readonly healthy: number;
    readonly backends: { readonly url: string; readonly state: string }[];
  }[];
  readonly routes: { readonly name: string; readonly [key: string]: unknown }[];
  readonly backends: {
    readonly url: string;
    readonly state: string;
    readonly reason: string;
    readonly inFlight: number;
    readonly pool: string;
  }[];
}

const encoder = new TextEncoder();

/**
 * Parses `{ ...BASE_CONFIG, ...object }` with `mod.ts`'s `parseConfig` and
 * starts it with `startLoadBalancer(config, { listen: false, ...options })`;
 * an `onLog` hook records every request (after any of `options.hooks`).
 */
export function inProcess(
  object: Readonly<Record<string, unknown>>,
  options: LbOptions = {},
): InProcessLb {
  const config = parseConfig({ ...BASE_CONFIG, ...object });
  const records: AccessRecord[] = [];
  const hooks = {
    ...options.hooks,
    onLog(record: AccessRecord) {
      options.hooks?.onLog?.(record);
      records.push(record);
    },
  };
  const lb = startLoadBalancer(config, { ...options, hooks, listen: false });
  const adminUrl = `http://127.0.0.1:${lb.adminAddr.port}`;
  let stopped: Promise<boolean> | undefined;
  return {
    lb,
    adminUrl,
    records,
    send: (url, init) => sendTo(lb, url, init),
    metrics: async () => await (await fetch(`${adminUrl}/metrics`)).text(),
    status: async () => await (await fetch(`${adminUrl}/status`)).json(),
    async [Symbol.asyncDispose]() {
      await (stopped ??= lb.shutdown());
    },
  };
}

async function sendTo(lb: LoadBalancer, url: string, init: Send = {}): Promise<Answer> {
  const target = new URL(url);
  const headers = new Headers(init.headers);
  if (!headers.has("host")) headers.set("host", target.host);
  const body = typeof init.body === "string" ? encoder.encode(init.body) : init.body;
  if (body !== undefined) headers.set("content-length", String(body.length));
  const started = performance.now();
  const res = await lb.handle(new Request(target, { method: init.method ?? "GET", headers, body }));
  return answer(res, started);
}

/** Reads a response whole into an {@link Answer}. */
export async function answer(res: Response, started: number): Promise<Answer> {
  const body = await res.text();
  const ms = performance.now() - started;
  return {
    status: res.status,
    body,
    headers: res.headers,
    ms,
    echo: () => JSON.parse(body) as Echo,
  };
}

// --- metrics ---------------------------------------------------------------

/** One sample of Prometheus text. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample in Prometheus text format. */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of `name`'s samples whose labels include every one of `labels` (0 when none). */
export function metric(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The label sets of `name`'s samples, for failure messages. */
export function series(text: string, name: string): Record<string, string>[] {
  return samples(text).filter((s) => s.name === name).map((s) => ({
    ...s.labels,
    value: String(s.value),
  }));
}

// --- numbers ---------------------------------------------------------------

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** How many times each value occurs. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
