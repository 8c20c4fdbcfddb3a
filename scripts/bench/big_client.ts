/**
 * The load client of the `big-download` and `big-upload` cases: a few
 * kept-alive connections, each sending one request after another for a
 * fixed time, with bodies far too large to hold. wrk would do for the
 * downloads but keeps a Lua request body in memory whole and times out a
 * request after 2 s; this streams a 256 MiB upload from one 256 KiB buffer,
 * reads every response to its end without keeping it, and waits as long as
 * `--timeout` says.
 *
 * Prints one JSON line ({@link BigClientResult}) on stdout and exits 0,
 * also when requests failed (they are counted); exits 2 on a bad command
 * line.
 *
 * Usage: `deno run --allow-net scripts/bench/big_client.ts --url
 * http://127.0.0.1:P/256m --connections 4 --duration 5s [--upload-bytes N]
 * [--max-requests N] [--timeout 60s]`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";
import { median } from "./report.ts";
import { ascii, bodyChunks, BufReader, latin1, parseHead, writeAll } from "./relay_http.ts";

/** What one client run measured. Times in milliseconds. */
export interface BigClientResult {
  /** Requests answered 2xx with their whole body read (and, for uploads, the whole body sent). */
  readonly requests: number;
  /** Requests that failed: socket errors, early ends, timeouts, or a status other than 2xx. */
  readonly errors: number;
  /** From the first connect to the end of the last request. */
  readonly durationMs: number;
  /** Request body bytes of the successful requests. */
  readonly bytesSent: number;
  /** Response body bytes of the successful requests. */
  readonly bytesReceived: number;
  /** Over successful requests; NaN when there were none. */
  readonly latency: LatencySummary;
  /** The first failure's message, if any. */
  readonly firstError?: string;
}

/** Mean, median, 99th percentile and maximum of a set of latencies. */
export interface LatencySummary {
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Summarizes latencies; the 99th percentile is the nearest-rank one (the
 * smallest sample with at least 99% of samples at or below it), so with
 * few samples it is close to the maximum.
 */
export function latencySummary(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { meanMs: NaN, p50Ms: NaN, p99Ms: NaN, maxMs: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil(0.99 * sorted.length) - 1;
  return {
    meanMs: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    p50Ms: median(sorted),
    p99Ms: sorted[rank],
    maxMs: sorted[sorted.length - 1],
  };
}

/** Reads the JSON line the client prints; throws, quoting the output, if it is not one. */
export function parseBigClientOutput(stdout: string): BigClientResult {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`big_client printed no JSON result:\n${stdout}`);
  }
  const r = value as Partial<BigClientResult> | null;
  const numbers = [r?.requests, r?.errors, r?.durationMs, r?.bytesSent, r?.bytesReceived];
  if (numbers.some((n) => typeof n !== "number") || typeof r?.latency !== "object") {
    throw new Error(`big_client result lacks a field:\n${line}`);
  }
  // JSON has no NaN: latencies of a run without successes come back as null.
  const l = r.latency as unknown as Record<string, number | null>;
  const ms = (x: number | null) => x ?? NaN;
  return {
    ...(r as BigClientResult),
    latency: { meanMs: ms(l.meanMs), p50Ms: ms(l.p50Ms), p99Ms: ms(l.p99Ms), maxMs: ms(l.maxMs) },
  };
}

/** Options for {@link runBigClient}. */
export interface BigClientOptions {
  readonly url: URL;
  readonly connections: number;
  readonly durationMs: number;
  /** POST a body of this many bytes; 0: GET. */
  readonly uploadBytes: number;
  /** Stop starting requests after this many, whatever the time. */
  readonly maxRequests: number;
  /** Past the duration, connections still busy are closed after this long (their requests fail). */
  readonly timeoutMs: number;
}

/** 256 KiB of `x`: every upload is this buffer written again and again. */
const UPLOAD_CHUNK = new Uint8Array(256 * 1024).fill(0x78);

/** Runs the load and returns its figures. */
export async function runBigClient(o: BigClientOptions): Promise<BigClientResult> {
  const port = Number(o.url.port || 80);
  const head = ascii(
    (o.uploadBytes > 0 ? "POST" : "GET") + ` ${o.url.pathname}${o.url.search} HTTP/1.1\r\n` +
      `host: ${o.url.host}\r\n` +
      (o.uploadBytes > 0
        ? `content-type: application/octet-stream\r\ncontent-length: ${o.uploadBytes}\r\n`
        : "") +
      "\r\n",
  );
  const started = performance.now();
  const deadline = started + o.durationMs;
  const latencies: number[] = [];
  const totals = { requests: 0, errors: 0, bytesSent: 0, bytesReceived: 0, issued: 0 };
  let firstError: string | undefined;
  const open = new Set<Deno.Conn>();
  // Past duration + timeout, whatever is still open is cut, which fails its request.
  const guard = setTimeout(() => {
    for (const c of open) c.close();
  }, o.durationMs + o.timeoutMs);

  async function oneRequest(conn: Deno.Conn, reader: BufReader): Promise<boolean> {
    const t0 = performance.now();
    let received = 0;
    const send = (async () => {
      await writeAll(conn, head);
      for (let left = o.uploadBytes; left > 0;) {
        const n = Math.min(left, UPLOAD_CHUNK.byteLength);
        await writeAll(conn, UPLOAD_CHUNK.subarray(0, n));
        left -= n;
      }
    })();
    // The answer is read while the body goes out: a server may answer early.
    const receive = (async () => {
      const headLength = await reader.readHead();
      if (headLength === 0) throw new Error("connection closed before a response");
      const res = parseHead(latin1(reader.peek(headLength)), "response");
      reader.consume(headLength);
      for await (const chunk of bodyChunks(reader, res.framing, false)) {
        received += chunk.byteLength;
      }
      return res;
    })();
    const [, res] = await Promise.all([send, receive]);
    if (res.status < 200 || res.status > 299) throw new Error(`status ${res.status}`);
    latencies.push(performance.now() - t0);
    totals.requests++;
    totals.bytesSent += o.uploadBytes;
    totals.bytesReceived += received;
    return !res.close && res.framing.kind !== "close";
  }

  async function connectionLoop(): Promise<void> {
    let conn: Deno.Conn | undefined;
    let reader: BufReader | undefined;
    while (performance.now() < deadline && totals.issued < o.maxRequests) {
      totals.issued++;
      try {
        if (!conn) {
          conn = await Deno.connect({ hostname: o.url.hostname, port });
          open.add(conn);
          reader = new BufReader(conn, 256 * 1024);
        }
        if (!(await oneRequest(conn, reader!))) conn = closeConn(conn);
      } catch (err) {
        totals.errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        conn = closeConn(conn);
      }
    }
    closeConn(conn);
  }

  function closeConn(conn: Deno.Conn | undefined): undefined {
    if (conn && open.delete(conn)) {
      try {
        conn.close();
      } catch { /* closed by the guard */ }
    }
    return undefined;
  }

  try {
    await Promise.all(Array.from({ length: o.connections }, connectionLoop));
  } finally {
    clearTimeout(guard);
  }
  const { issued: _, ...counts } = totals;
  return {
    ...counts,
    durationMs: performance.now() - started,
    latency: latencySummary(latencies),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, {
    url: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    "upload-bytes": { type: "string" },
    "max-requests": { type: "string" },
    timeout: { type: "string" },
  });
  const p = new Problems();
  let url: URL | undefined;
  try {
    url = new URL(String(f.url ?? ""));
    if (url.protocol !== "http:") p.add("url", `"${f.url}" is not an http:// URL`);
  } catch {
    p.add("url", `"${f.url ?? ""}" is not a URL (expected e.g. http://127.0.0.1:8080/256m)`);
  }
  const options = {
    connections: p.integer("connections", String(f.connections ?? "4"), 1, 1000),
    durationMs: p.duration("duration", String(f.duration ?? "5s")),
    uploadBytes: p.integer("upload-bytes", String(f["upload-bytes"] ?? "0"), 0, 2 ** 40),
    maxRequests: p.integer("max-requests", String(f["max-requests"] ?? "1000"), 1, 1e9),
    timeoutMs: p.duration("timeout", String(f.timeout ?? "60s")),
  };
  p.throwIfAny();
  const result = await runBigClient({ url: url!, ...options });
  console.log(JSON.stringify(result));
}

if (import.meta.main) await runCli("big_client", main);
