/**
 * A real `redis-server` for the shared rate-limit tests: Debian's, started
 * on a free loopback port with persistence off (`--save "" --appendonly
 * no`), so nothing is written to disk and a restart starts empty. It can be
 * killed, restarted on the same port, paused (SIGSTOP: the socket stays,
 * nothing answers) and resumed. Tests skip, saying why, when the binary is
 * absent.
 *
 * @module
 */

/** Where Debian's package puts it (`.ci/run` installs it). */
export const REDIS_SERVER = "/usr/bin/redis-server";

/** Whether the binary is here. */
export const HAVE_REDIS: boolean = (() => {
  try {
    return Deno.statSync(REDIS_SERVER).isFile;
  } catch {
    return false;
  }
})();

if (!HAVE_REDIS) {
  console.warn(
    `SKIP: ${REDIS_SERVER} not found: the shared rate-limit tests are skipped (apt-get install redis-server)`,
  );
}

/** A running (or stopped, restartable) redis-server. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after {@link RedisServer.kill}), empty. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Runs one command with `redis-cli` and returns its output, trimmed. */
  cli(...args: string[]): Promise<string>;
}

/** A free loopback port (bound, then let go). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts redis-server with `extra` arguments (`--requirepass x`...). */
export async function startRedis(extra: readonly string[] = []): Promise<RedisServer> {
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const password = extra[extra.indexOf("--requirepass") + 1];
  const auth = extra.includes("--requirepass") ? ["-a", password, "--no-auth-warning"] : [];
  const start = async () => {
    child = new Deno.Command(REDIS_SERVER, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        ...extra,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await ready(port, child);
  };
  const kill = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGCONT");
      c.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await c.status;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async cli(...args) {
      const out = await new Deno.Command("redis-cli", {
        args: ["-p", String(port), ...auth, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    },
    [Symbol.asyncDispose]: kill,
  };
}

/** Waits until the server answers PING (or exits, or 10 s pass). */
async function ready(port: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        // "+PONG", or "-NOAUTH" from a server that wants a password: up either way.
        if (n !== null && (buf[0] === 43 || buf[0] === 45)) return;
      } finally {
        conn.close();
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not start${exited ? " (it exited)" : ""}`);
}
