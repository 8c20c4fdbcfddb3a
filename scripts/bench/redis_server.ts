/**
 * The redis-server the `lb+rate-limit-redis` target shares its buckets
 * through: started by the benchmark on a free loopback port, with nothing
 * written to disk, on the load side's CPUs with `--pin` (it is a service
 * the proxy calls, like the backends), and stopped with everything else.
 * Where redis-server is not installed the target is skipped, naming the
 * package.
 *
 * A small RESP client reads `DBSIZE` afterwards: the proof that checks
 * reached the store rather than its local fallback.
 *
 * @module
 */

import type { BenchEnv } from "./backends.ts";
import { pinned } from "./pinning.ts";
import { findExecutable, freePort, waitForPort } from "./processes.ts";
import { errorText, SkipTarget } from "./proxies.ts";

/** A running redis-server. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
}

/** The redis-server command line: loopback only, no snapshots, no append-only file, log to stdout. */
export function redisArgs(port: number, dir: string): string[] {
  return [
    ...["--port", String(port), "--bind", "127.0.0.1"],
    ...["--save", "", "--appendonly", "no", "--dir", dir],
    ...["--daemonize", "no", "--logfile", ""],
  ];
}

/** Starts redis-server under the benchmark's processes; {@link SkipTarget} when it can't. */
export async function startRedis(env: BenchEnv): Promise<RedisServer> {
  const redis = findExecutable("redis-server");
  if (!redis) {
    throw new SkipTarget("redis-server is not installed (apt-get install redis-server)");
  }
  const port = freePort();
  const dir = `${env.tmp}/redis`;
  await Deno.mkdir(dir, { recursive: true });
  const proc = env.procs.start(
    "redis-server",
    pinned(env.pin, "load", [redis, ...redisArgs(port, dir)]),
    { logFile: `${env.tmp}/redis.log` },
  );
  try {
    await waitForPort(proc, port);
    const pong = await redisCommand(port, ["PING"]);
    if (pong !== "+PONG") throw new Error(`PING answered ${JSON.stringify(pong)}`);
  } catch (err) {
    throw new SkipTarget(`redis-server did not start: ${errorText(err)}`);
  }
  return { url: `redis://127.0.0.1:${port}`, port };
}

/** A command as a RESP array of bulk strings. */
export function respCommand(args: readonly string[]): string {
  const enc = new TextEncoder();
  return `*${args.length}\r\n` +
    args.map((a) => `$${enc.encode(a).byteLength}\r\n${a}\r\n`).join("");
}

/**
 * Sends one command and returns the first line of the reply (`+PONG`,
 * `:42`, `-ERR …`): enough for PING and DBSIZE, which answer in one line.
 */
export async function redisCommand(port: number, args: readonly string[]): Promise<string> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port,
    signal: AbortSignal.timeout(5_000),
  });
  // A read has no timeout of its own: closing the connection ends it.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, 5_000);
  try {
    await conn.write(new TextEncoder().encode(respCommand(args)));
    const buf = new Uint8Array(512);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`redis closed the connection before answering ${args[0]}`);
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.slice(0, text.indexOf("\r\n"));
  } catch (err) {
    throw timedOut ? new Error(`no reply to ${args[0]} within 5 s`) : err;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

/** The number of keys in the current database. */
export async function redisKeys(port: number): Promise<number> {
  const reply = await redisCommand(port, ["DBSIZE"]);
  const m = /^:(\d+)$/.exec(reply);
  if (!m) throw new Error(`DBSIZE answered ${JSON.stringify(reply)}`);
  return Number(m[1]);
}
