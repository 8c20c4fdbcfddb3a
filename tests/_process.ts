/**
 * Helpers for integration tests that run the real programs (`backend.ts`,
 * `main.ts`) as child processes: start one, wait for its "listening on" line,
 * watch its output, signal it, and stop it so that the test sanitizers find
 * no open process or pipe.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const ROOT_URL = new URL("../", import.meta.url);
/** The repository root, where `deno.json` (and so `no-legacy-abort`) applies. */
const ROOT = fileURLToPath(ROOT_URL);

/** The line both programs print once they accept connections; groups are host and port. */
export const LISTEN_PATTERN = /listening on http:\/\/([^\s,]+):(\d+)/;

/** Options for {@link startDeno} and {@link runDeno}. */
export interface DenoOptions {
  /** Extra environment variables, on top of this process's. */
  readonly env?: Record<string, string>;
  /** For {@link startDeno}: the line that means "ready"; {@link LISTEN_PATTERN} by default. */
  readonly listenPattern?: RegExp;
  /** How long to wait for the ready line (or, for {@link runDeno}, the exit); 15 s by default. */
  readonly timeoutMs?: number;
}

/** A started program. Stop it with {@link RunningProcess.stop} or `await using`. */
export interface RunningProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Port from the ready line's second group (the bound port, even with `--port 0`). */
  readonly port: number;
  /** The ready line's match, for further groups. */
  readonly match: RegExpMatchArray;
  /**
   * Settles when the process has exited and both pipes are read to the end;
   * await it (rather than {@link RunningProcess.stop}) when the process is
   * expected to exit by itself, since `stop` would signal it again.
   */
  readonly status: Promise<Deno.CommandStatus>;
  /** Every stdout and stderr line so far, interleaved in arrival order. */
  lines(): string[];
  /**
   * The first line so far, or to come, that matches `re`. Rejects with the
   * output so far after `timeoutMs` (5 s by default) or if the process exits.
   */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal if the process is still running. */
  signal(sig: Deno.Signal): void;
  /**
   * Sends `sig` (SIGTERM by default) if still running, waits for the exit and
   * for both pipes to be read to the end. Sends SIGKILL after 10 s.
   */
  stop(sig?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Resolves `script` against the repository root; absolute paths and URLs pass through. */
function scriptPath(script: string): string {
  return fileURLToPath(new URL(script, ROOT_URL));
}

function denoCommand(
  script: string,
  args: readonly string[],
  options: DenoOptions,
  extra: Pick<Deno.CommandOptions, "stdout" | "stderr" | "signal"> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", scriptPath(script), ...args],
    cwd: ROOT,
    env: options.env,
    stdin: "null",
    ...extra,
  });
}

interface Waiter {
  readonly re: RegExp;
  resolve(match: RegExpMatchArray): void;
  reject(err: Error): void;
}

/**
 * Starts `deno run --allow-all <script> ...args` from the repository root and
 * resolves once a line matches `listenPattern`. Rejects with the captured
 * output, after killing the process, if it exits or times out first.
 */
export async function startDeno(
  script: string,
  args: readonly string[],
  options: DenoOptions = {},
): Promise<RunningProcess> {
  const child = denoCommand(script, args, options, { stdout: "piped", stderr: "piped" }).spawn();
  const output: string[] = [];
  const waiters = new Set<Waiter>();
  let exited: Deno.CommandStatus | undefined;

  const onLine = (line: string) => {
    output.push(line);
    for (const w of waiters) {
      const m = line.match(w.re);
      if (m) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };
  // Both pipes must be read to the end, or the child can block on a full
  // pipe and the sanitizer reports the open resources.
  const pumps = Promise.all([readLines(child.stdout, onLine), readLines(child.stderr, onLine)]);
  const status = pumps.then(() => child.status).then((s) => {
    exited = s;
    const err = new Error(`process exited with code ${s.code}${describe(output)}`);
    for (const w of waiters) w.reject(err);
    waiters.clear();
    return s;
  });

  const waitForLine = (re: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> => {
    for (const line of output) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    if (exited) {
      return Promise.reject(new Error(`process exited before printing ${re}${describe(output)}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no line matched ${re} within ${timeoutMs} ms${describe(output)}`));
      }, timeoutMs);
      const waiter: Waiter = {
        re,
        resolve(m) {
          clearTimeout(timer);
          resolve(m);
        },
        reject(e) {
          clearTimeout(timer);
          reject(e);
        },
      };
      waiters.add(waiter);
    });
  };

  const signal = (sig: Deno.Signal) => {
    if (exited) return;
    try {
      child.kill(sig);
    } catch {
      // It exited between the check and the kill.
    }
  };

  const stop = async (sig: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> => {
    signal(sig);
    const timer = setTimeout(() => signal("SIGKILL"), 10_000);
    try {
      return await status;
    } finally {
      clearTimeout(timer);
    }
  };

  let match: RegExpMatchArray;
  try {
    match = await waitForLine(options.listenPattern ?? LISTEN_PATTERN, options.timeoutMs ?? 15_000);
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  return {
    child,
    pid: child.pid,
    port: Number(match[2]),
    match,
    status,
    lines: () => [...output],
    waitForLine,
    signal,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/**
 * Runs `deno run --allow-all <script> ...args` to completion (for `--help`,
 * bad flags and the like). Kills it after `timeoutMs` (15 s by default).
 */
export async function runDeno(
  script: string,
  args: readonly string[],
  options: DenoOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 15_000);
  try {
    const out = await denoCommand(script, args, options, {
      stdout: "piped",
      stderr: "piped",
      signal: abort.signal,
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    for (const part of parts) onLine(part.replace(/\r$/, ""));
  }
  if (rest !== "") onLine(rest);
}

function describe(output: readonly string[]): string {
  return output.length === 0 ? " (no output)" : `; output:\n${output.join("\n")}`;
}
