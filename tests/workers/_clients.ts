/**
 * Clients of the `--workers` suites: one request per fresh connection (so
 * the kernel's reusePort hashing spreads them over the workers; a pooled
 * `fetch` would keep reusing one connection and so one worker), a batch of
 * them, and a background load recording every outcome with its times.
 *
 * @module
 */

import { parseResponse, readAll, writeAll } from "../_http.ts";

/** One answer read off a fresh connection. */
export interface Hit {
  readonly status: number;
  readonly body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `GET path` on a new connection to `port` with `Connection: close`, read to
 * EOF. Throws when the connection fails, is cut before a whole response, or
 * takes longer than `timeoutMs` (5 s by default).
 */
export async function hit(port: number, path = "/", timeoutMs = 5000): Promise<Hit> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (!closed) conn.close();
    closed = true;
  };
  const timer = setTimeout(close, timeoutMs);
  try {
    const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    await writeAll(conn, encoder.encode(head));
    const raw = await readAll(conn);
    const res = parseResponse(raw);
    return { status: res.status, body: decoder.decode(res.body) };
  } catch (err) {
    throw closed ? new Error(`no answer within ${timeoutMs} ms`) : err;
  } finally {
    clearTimeout(timer);
    close();
  }
}

/**
 * `count` requests from `clients` (8) concurrent loops, each on its own fresh
 * connection; a failed one is an outcome with status 0, not a throw.
 */
export async function hits(
  port: number,
  count: number,
  clients = 8,
  path = "/",
): Promise<Outcome[]> {
  const load = startLoad(port, { clients, pauseMs: 0, max: count, path });
  return await load.stop(true);
}

/** What happened to one request of a {@link Load}. */
export interface Outcome {
  /** `performance.now()` when it was sent, and when its answer (or error) came. */
  readonly started: number;
  readonly ended: number;
  /** 0 when no response came. */
  readonly status: number;
  readonly body: string;
  readonly error?: string;
}

/** Requests running in the background until {@link Load.stop}. */
export interface Load {
  /** Every outcome so far, in completion order. */
  readonly results: Outcome[];
  /**
   * Ends the loops after their current request and waits for them; with
   * `drain`, lets them run to `max` first.
   */
  stop(drain?: boolean): Promise<Outcome[]>;
}

/**
 * Starts `clients` (8) loops, each sending requests on fresh connections,
 * `pauseMs` (5) apart, until stopped or `max` (5000) requests in all.
 */
export function startLoad(
  port: number,
  { clients = 8, pauseMs = 5, max = 5000, path = "/" } = {},
): Load {
  const results: Outcome[] = [];
  let stopped = false;
  let sent = 0;
  const client = async () => {
    while (!stopped && sent < max) {
      sent++;
      const started = performance.now();
      try {
        const res = await hit(port, path);
        results.push({ started, ended: performance.now(), ...res });
      } catch (err) {
        results.push({
          started,
          ended: performance.now(),
          status: 0,
          body: "",
          error: String(err),
        });
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const loops = Promise.all(Array.from({ length: clients }, client));
  return {
    results,
    async stop(drain = false) {
      if (!drain) stopped = true;
      await loops;
      return results;
    },
  };
}

/** The outcomes that are not `200`, described for an assertion message. */
export function failures(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o) => o.status !== 200).map((o) =>
    `${o.status} ${o.error ?? o.body.slice(0, 120)} (sent at ${o.started.toFixed(0)} ms)`
  );
}

/** How many outcomes had each body. */
export function byBody(outcomes: readonly Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o.body] = (out[o.body] ?? 0) + 1;
  return out;
}

/** Waits until `load` has `n` more outcomes than it had when called (bounded by `timeoutMs`). */
export async function moreResults(load: Load, n: number, timeoutMs = 10_000): Promise<void> {
  const target = load.results.length + n;
  const deadline = Date.now() + timeoutMs;
  while (load.results.length < target) {
    if (Date.now() > deadline) throw new Error(`only ${load.results.length} of ${target} requests`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
