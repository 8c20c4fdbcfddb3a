/**
 * More helpers of the `--workers` suites (affinity, outliers, TLS, admin
 * changes), beside `_workers.ts`: a fresh-connection client that sends
 * headers and reads them back (optionally over TLS), backends whose answer
 * and health check can be switched, admin calls with a JSON body, each
 * worker's requests since a point, and a CA with a server certificate for
 * `localhost`.
 *
 * @module
 */

import type { LbProcess } from "../_lb.ts";
import { httpServer, parseResponse, readAll, writeAll } from "../_http.ts";
import { TOKEN, workers } from "./_workers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// --- a client with headers -------------------------------------------------

/** One answer read off a fresh connection, with its header fields. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  /** The first field named `name` (case-insensitive), if any. */
  header(name: string): string | undefined;
}

/** How {@link send} connects and what it sends. */
export interface SendOptions {
  readonly path?: string;
  /** Extra request header fields. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Connect with TLS to `localhost`, trusting these PEM CA certificates. */
  readonly caCerts?: readonly string[];
  /** 5 s by default. */
  readonly timeoutMs?: number;
}

/**
 * `GET` on a new connection to `port` with `Connection: close`, read to EOF,
 * so the kernel's reusePort hashing picks a worker for each request. Throws
 * when the connection fails, is cut before a whole response, or takes longer
 * than `timeoutMs`.
 */
export async function send(port: number, options: SendOptions = {}): Promise<Reply> {
  const { path = "/", headers = {}, caCerts, timeoutMs = 5000 } = options;
  const host = caCerts ? "localhost" : "127.0.0.1";
  const conn: Deno.Conn = caCerts
    ? await Deno.connectTls({ hostname: host, port, caCerts: [...caCerts] })
    : await Deno.connect({ hostname: host, port });
  let closed = false;
  const close = () => {
    if (!closed) conn.close();
    closed = true;
  };
  const timer = setTimeout(close, timeoutMs);
  try {
    const fields = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const head =
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${fields}Connection: close\r\n\r\n`;
    await writeAll(conn, encoder.encode(head));
    const res = parseResponse(await readAll(conn));
    return { status: res.status, body: decoder.decode(res.body), header: res.header };
  } catch (err) {
    throw closed ? new Error(`no answer within ${timeoutMs} ms`) : err;
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** Runs `task(i)` for `i` in `0..count-1` on `clients` (8) concurrent loops; results in index order. */
export async function concurrently<T>(
  count: number,
  task: (i: number) => Promise<T>,
  clients = 8,
): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const loop = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, count) }, loop));
  return out;
}

// --- backends --------------------------------------------------------------

/** A loopback backend answering its name, with a switchable status and health check. */
export interface SwitchBackend extends AsyncDisposable {
  readonly name: string;
  readonly origin: string;
  /** Requests that reached it, health checks (`GET /healthz`) left out. */
  readonly count: () => number;
  /** Health checks (`GET /healthz`) that reached it. */
  readonly checks: () => number;
  /** The status of its answers from now on (200 at first). */
  status: number;
  /** Whether `GET /healthz` answers 200 (else 503); true at first. */
  healthy: boolean;
  /** From now on, answers wait (health checks don't) until {@link SwitchBackend.release}. */
  hold(): void;
  /** Answers every waiting request at once, and no longer holds new ones. */
  release(): void;
  /** Requests waiting now. */
  readonly held: () => number;
  close(): Promise<void>;
}

/** Starts a {@link SwitchBackend} whose answers (not health checks) wait `delayMs` (0). */
export function switchBackend(
  name: string,
  { status = 200, healthy = true, delayMs = 0 } = {},
): SwitchBackend {
  let count = 0, checks = 0;
  const state = { status, healthy };
  let holding = false;
  const waiting = new Set<() => void>();
  const server = httpServer(async (req) => {
    if (new URL(req.url).pathname === "/healthz") {
      checks++;
      return new Response(null, { status: state.healthy ? 200 : 503 });
    }
    count++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (holding) await new Promise<void>((r) => waiting.add(r));
    return new Response(name, { status: state.status });
  });
  const release = () => {
    holding = false;
    for (const r of waiting) r();
    waiting.clear();
  };
  let closed: Promise<void> | undefined;
  const close = () => {
    release();
    return closed ??= server.server.shutdown();
  };
  return {
    name,
    origin: server.origin,
    count: () => count,
    checks: () => checks,
    get status() {
      return state.status;
    },
    set status(s: number) {
      state.status = s;
    },
    get healthy() {
      return state.healthy;
    },
    set healthy(h: boolean) {
      state.healthy = h;
    },
    hold: () => holding = true,
    release,
    held: () => waiting.size,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// --- the admin listener ----------------------------------------------------

/** A backend as `/status` shows it (the fields these suites read). */
export interface StatusEntry {
  readonly url: string;
  readonly state: string;
  readonly weight: number;
  readonly ejections: number;
  readonly reason: string;
}

/** `/status`'s backends. */
export async function statusBackends(lb: LbProcess): Promise<StatusEntry[]> {
  const res = await fetch(`${lb.adminUrl}/status`);
  if (res.status !== 200) throw new Error(`/status answered ${res.status}: ${await res.text()}`);
  return (await res.json()).backends;
}

/** `origin`'s entry in `/status` (undefined once it left the pool). */
export async function entryOf(lb: LbProcess, origin: string): Promise<StatusEntry | undefined> {
  return (await statusBackends(lb)).find((b) => b.url === origin);
}

/** The single-pool admin path of backend `origin`, with an optional tail (`/weight`, `/maintenance`). */
export function backendPath(origin: string, tail = ""): string {
  return `/api/backends/${encodeURIComponent(origin)}${tail}`;
}

/** An authorized admin request with an optional JSON body; the answer's status and text. */
export async function adminCall(
  lb: LbProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${lb.adminUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** Each worker's `requests` in `/status` now, by worker order. */
export async function workerRequests(lb: LbProcess): Promise<number[]> {
  return (await workers(lb)).map((w) => w.requests);
}

/**
 * Each worker's requests since `before` (from {@link workerRequests}),
 * polled until they add up to at least `sent` (counters reach the main
 * thread a little after the answers); throws after `timeoutMs` (3 s).
 */
export async function servedSince(
  lb: LbProcess,
  before: readonly number[],
  sent: number,
  timeoutMs = 3000,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await workerRequests(lb);
    const per = now.map((n, i) => n - (before[i] ?? 0));
    if (per.reduce((a, b) => a + b, 0) >= sent) return per;
    if (Date.now() > deadline) throw new Error(`workers served ${per} of ${sent} requests`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// --- certificates ----------------------------------------------------------

/** Where the certificates are made. */
export const OPENSSL = "/usr/bin/openssl";

/** PEM files of a CA and a server certificate it signed for `localhost` and 127.0.0.1. */
export interface Certs {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command(OPENSSL, { args, stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${decoder.decode(out.stderr)}`);
  }
}

/** Makes a CA and a server certificate in a new temporary directory (remove it when done). */
export async function makeCerts(): Promise<Certs> {
  const dir = await Deno.makeTempDir({ prefix: "lb-workers-tls-" });
  const p = (name: string) => `${dir}/${name}`;
  const days = ["-nodes", "-days", "2"];
  await openssl(["req", "-x509", "-newkey", "rsa:2048", ...days, "-subj", "/CN=ca"]
    .concat(["-keyout", p("ca.key"), "-out", p("ca.pem")]));
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"]
    .concat(["-keyout", p("server.key"), "-out", p("server.csr")]));
  // Names are checked against the SAN only (RFC 6125).
  await Deno.writeTextFile(
    p("server.ext"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl(
    ["x509", "-req", "-days", "2", "-in", p("server.csr"), "-CA", p("ca.pem")]
      .concat(["-CAkey", p("ca.key"), "-CAcreateserial", "-extfile", p("server.ext")])
      .concat(["-out", p("server.pem")]),
  );
  return { dir, ca: p("ca.pem"), cert: p("server.pem"), key: p("server.key") };
}
