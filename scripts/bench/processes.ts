/**
 * Process plumbing for the benchmark: find programs, pick free loopback
 * ports, start servers with a raised open-file limit, wait until they
 * listen, stop every one of them, and sample their resident memory.
 *
 * @module
 */

/**
 * Prefix for every command the benchmark runs. 1,000 client connections
 * need more than the usual 1,024 descriptors in the proxy (client plus
 * upstream sockets) and in wrk; where the hard limit is below 65,536 the
 * hard limit is taken instead.
 */
const ULIMIT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';

/** Directories searched after `PATH`: `nginx` and `haproxy` live in sbin, which users' PATHs often lack. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The absolute path of `name` on `PATH` or in an sbin directory, else undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    try {
      const path = `${dir}/${name}`;
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

const handedOut = new Set<number>();

/**
 * A loopback port that was free a moment ago and has not been handed out
 * before in this process (the kernel may offer the same one twice when
 * nothing has bound it yet).
 */
export function freePort(): number {
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A started server. */
export interface Proc {
  readonly name: string;
  /** The program's pid (bash `exec`s it, so this is not a shell). */
  readonly pid: number;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  readonly child: Deno.ChildProcess;
  /** Set once the process has exited. */
  exit?: Deno.CommandStatus;
}

/** Options for {@link Processes.start}. */
export interface StartOptions {
  /** Working directory; the benchmark's by default. */
  readonly cwd?: string;
  /** File that receives stdout and stderr (appended). */
  readonly logFile: string;
}

/** The last `lines` lines of a log file, or a note that it is empty or missing. */
export function logTail(path: string, lines = 15): string {
  try {
    const text = Deno.readTextFileSync(path).trimEnd();
    return text === "" ? "(no output)" : text.split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * Every server the benchmark starts, so that {@link Processes.stopAll} (in a
 * `finally`) leaves nothing running whatever went wrong.
 */
export class Processes {
  readonly #procs: Proc[] = [];

  /** Starts `argv` under the raised descriptor limit, output to `logFile`. */
  start(name: string, argv: readonly string[], options: StartOptions): Proc {
    const script = `${ULIMIT}; exec "$@" >>"$BENCH_LOG" 2>&1`;
    const child = new Deno.Command("bash", {
      args: ["-c", script, name, ...argv],
      cwd: options.cwd,
      env: { BENCH_LOG: options.logFile },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const proc: Proc = { name, pid: child.pid, logFile: options.logFile, child };
    child.status.then((s) => proc.exit = s);
    this.#procs.push(proc);
    return proc;
  }

  /** Stops every process started so far, in reverse order (proxies before backends). */
  async stopAll(): Promise<void> {
    for (const proc of this.#procs.reverse()) await stop(proc);
    this.#procs.length = 0;
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stop(proc: Proc, graceMs = 5_000): Promise<void> {
  const signal = (sig: Deno.Signal) => {
    try {
      proc.child.kill(sig);
    } catch { /* already gone */ }
  };
  if (proc.exit) return;
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const killed = await Promise.race([proc.child.status.then(() => false), timedOut]);
  clearTimeout(timer);
  if (killed) {
    signal("SIGKILL");
    await proc.child.status;
  }
}

/** A server exited before it listened; `exitCode` says how. */
export class ProcessExited extends Error {
  readonly exitCode: number;
  constructor(proc: Proc, message: string) {
    super(`${message}:\n${logTail(proc.logFile)}`);
    this.name = "ProcessExited";
    this.exitCode = proc.exit?.code ?? -1;
  }
}

/**
 * Resolves once something accepts TCP connections on `port`; rejects with
 * the end of the process's log if it exits first or `timeoutMs` passes.
 */
export async function waitForPort(proc: Proc, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exit) {
      throw new ProcessExited(proc, `${proc.name} exited with status ${proc.exit.code}`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(
          `${proc.name} does not listen on port ${port} after ${timeoutMs} ms:\n` +
            logTail(proc.logFile),
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Output of a finished command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argv` to completion under the raised descriptor limit; `signal` kills it. */
export async function run(
  argv: readonly string[],
  signal?: AbortSignal,
): Promise<CommandResult> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `${ULIMIT}; exec "$@"`, argv[0], ...argv],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** `pid` and all its descendants, read from `/proc/<pid>/task/<tid>/children`. */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of Deno.readDirSync(`/proc/${pids[i]}/task`)) {
        const children = Deno.readTextFileSync(`/proc/${pids[i]}/task/${task.name}/children`);
        for (const c of children.trim().split(/\s+/)) if (c) pids.push(Number(c));
      }
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** Sum of `VmRSS` over `pids`, in KiB; processes that are gone count 0. */
export function rssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
      if (m) total += Number(m[1]);
    } catch { /* gone */ }
  }
  return total;
}

/**
 * Samples the resident memory of a process tree every `intervalMs` (the
 * tree is re-read each time, so NGINX workers forked later count) and keeps
 * the peak. Shared pages count once per process, as `VmRSS` does.
 */
export class RssSampler {
  #peakKiB = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pid: number, intervalMs = 100) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.#peakKiB = Math.max(this.#peakKiB, rssKiB(processTree(this.pid)));
  }

  /** Stops sampling and returns the peak in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peakKiB / 1024;
  }
}

/**
 * How many sockets listen on TCP `port`, from the text of `/proc/net/tcp`
 * or `/proc/net/tcp6` (state `0A` is LISTEN; ports are hex). With
 * `SO_REUSEPORT` every worker's listener is its own socket, so this counts
 * the workers that are taking connections, whatever the program says.
 */
export function listenerCount(procNetTcp: string, port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const line of procNetTcp.split("\n")) {
    const m = /^\s*\d+:\s+[0-9A-F]+:([0-9A-F]{4})\s+[0-9A-F]+:[0-9A-F]{4}\s+([0-9A-F]{2})\s/.exec(
      line,
    );
    if (m && m[1] === hexPort && m[2] === "0A") n++;
  }
  return n;
}

/** The listening sockets on `port` in this network namespace, IPv4 and IPv6. */
export function listeners(port: number): number {
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      n += listenerCount(Deno.readTextFileSync(file), port);
    } catch { /* no IPv6 */ }
  }
  return n;
}

/**
 * Waits until at least `count` sockets listen on `port` (worker threads
 * may open theirs after the first one answers) or `timeoutMs` passes;
 * returns how many there were at the end.
 */
export async function waitForListeners(
  port: number,
  count: number,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = listeners(port);
    if (n >= count || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}
