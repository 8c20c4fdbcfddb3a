/**
 * `deno task demo`: three backends and the load balancer in front of them on
 * loopback, one command. Ctrl-C (or SIGTERM) stops everything cleanly: each
 * child gets the signal and shuts down gracefully, then the demo exits.
 *
 * Flags: `--port` (lb, default 8080), `--admin-port` (9901),
 * `--base-port` (first backend, 8081), `--count` (backends, 3).
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../lib/config/cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Children run in their own session (`setsid`) where it exists, so a
 * terminal's Ctrl-C reaches only the demo, which then sends each child one
 * SIGTERM. Without it they would get the terminal's SIGINT *and* ours, and
 * take the second as "exit at once".
 */
const SETSID = ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

function spawn(script: string, args: string[], permissions: string[]): Deno.ChildProcess {
  const command = [Deno.execPath(), "run", ...permissions, script, ...args];
  const [program, ...rest] = SETSID ? [SETSID, ...command] : command;
  return new Deno.Command(program, {
    args: rest,
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, {
    port: { type: "string" },
    "admin-port": { type: "string" },
    "base-port": { type: "string" },
    count: { type: "string" },
  });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "8080"));
  const adminPort = p.port("admin-port", String(f["admin-port"] ?? "9901"));
  const basePort = p.port("base-port", String(f["base-port"] ?? "8081"));
  const count = p.integer("count", String(f.count ?? "3"), 1, 20);
  p.throwIfAny();

  const backendPorts = Array.from({ length: count }, (_, i) => basePort + i);
  const children = backendPorts.map((bp) =>
    spawn("backend.ts", ["--host", "127.0.0.1", "--port", String(bp)], [
      "--allow-net",
      "--allow-env",
    ])
  );
  await Promise.all(backendPorts.map((bp) => waitForPort(bp)));
  children.push(spawn("main.ts", [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--admin-port",
    String(adminPort),
    "--backends",
    backendPorts.map((bp) => `http://127.0.0.1:${bp}`).join(","),
    "--health-interval",
    "2s",
  ], ["--allow-net", "--allow-env"]));
  await waitForPort(port);
  console.log(
    `\ndemo ready: curl http://127.0.0.1:${port}/  ·  metrics: http://127.0.0.1:${adminPort}/metrics` +
      `  ·  status: http://127.0.0.1:${adminPort}/status  ·  Ctrl-C stops everything\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) {
      for (const c of children) c.kill("SIGKILL");
      return;
    }
    stopping = true;
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const statuses = await Promise.all(children.map((c) => c.status));
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  const failed = statuses.filter((s) => !s.success && s.signal === null);
  console.log(`demo stopped (${children.length} processes, ${failed.length} exited with errors)`);
}

if (import.meta.main) await runCli("demo", main);
