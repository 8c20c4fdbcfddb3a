/**
 * Everything about `wrk` that needs no process: its command line, the Lua
 * script for uploads, and a parser for what `wrk --latency` prints.
 *
 * wrk (4.x, `src/wrk.c`) prints latencies with `format_time_us`: `us` below
 * a millisecond, `ms` below a second, then `s`, `m`, `h`. Rates use SI
 * suffixes (`k`, `M`, `G`), byte counts binary ones (`KB` = 1024 B). The
 * "Socket errors" and "Non-2xx or 3xx responses" lines appear only when
 * their counts are non-zero; wrk counts any status of 400 or more in the
 * latter, despite its wording.
 *
 * @module
 */

/** The figures of one wrk run. Times are in milliseconds. */
export interface WrkResult {
  /** The `Requests/sec:` line. */
  readonly requestsPerSec: number;
  /** Completed requests (the "N requests in T" line). */
  readonly requests: number;
  /** Measured run time in milliseconds (the "in T" part). */
  readonly durationMs: number;
  /** Response bytes read (the ", X read" part). */
  readonly bytesRead: number;
  /** Mean latency (Thread Stats). */
  readonly latencyAvgMs: number;
  /** Largest latency seen (Thread Stats). */
  readonly latencyMaxMs: number;
  /** Latency percentiles from `--latency`, keyed by percent: 50, 75, 90, 99. */
  readonly percentilesMs: Readonly<Record<number, number>>;
  readonly socketErrors: {
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    readonly timeout: number;
  };
  /** Responses with status 400 or more. */
  readonly non2xx: number;
}

const TIME_UNIT_MS: Readonly<Record<string, number>> = {
  us: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
};

const SI: Readonly<Record<string, number>> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const BINARY: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** Converts a wrk time such as `635.00us`, `1.48ms`, `2.01s` or `1.00m` to milliseconds. */
export function parseWrkTime(text: string): number {
  const m = /^(-?[\d.]+|-?nan)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk time: "${text}" (expected e.g. 635.00us, 1.48ms, 2.01s)`);
  return Number(m[1]) * TIME_UNIT_MS[m[2]];
}

/** Converts a wrk rate such as `98.91k` or `523.00` to a number. */
export function parseWrkMetric(text: string): number {
  const m = /^([\d.]+)([kMGT]?)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk number: "${text}" (expected e.g. 98.91k)`);
  return Number(m[1]) * SI[m[2]];
}

/** Converts a wrk byte count such as `42.34MB` or `733.45KB` to bytes. */
export function parseWrkBytes(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk byte count: "${text}" (expected e.g. 42.34MB)`);
  return Number(m[1]) * BINARY[m[2]];
}

function required(output: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(output);
  if (!m) throw new Error(`wrk output has no ${what} line:\n${output}`);
  return m;
}

/**
 * Parses the stdout of `wrk --latency`. Throws, quoting the output, when a
 * line every run prints is missing (a run that failed to start prints none).
 */
export function parseWrkOutput(output: string): WrkResult {
  const rps = required(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, "Requests/sec");
  const total = required(
    output,
    /^\s*(\d+) requests in (\S+), (\S+) read\s*$/m,
    '"N requests in T, X read"',
  );
  const latency = required(
    output,
    /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/m,
    "Thread Stats Latency",
  );
  const percentilesMs: Record<number, number> = {};
  for (const m of output.matchAll(/^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$/gm)) {
    percentilesMs[Number(m[1])] = parseWrkTime(m[2]);
  }
  if (percentilesMs[50] === undefined || percentilesMs[99] === undefined) {
    throw new Error(`wrk output has no latency distribution (was --latency given?):\n${output}`);
  }
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(total[1]),
    durationMs: parseWrkTime(total[2]),
    bytesRead: parseWrkBytes(total[3]),
    latencyAvgMs: parseWrkTime(latency[1]),
    latencyMaxMs: parseWrkTime(latency[3]),
    percentilesMs,
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

/** Socket errors of every kind plus error statuses: what the tables call "errors". */
export function errorCount(r: WrkResult): number {
  const s = r.socketErrors;
  return s.connect + s.read + s.write + s.timeout + r.non2xx;
}

/** Options for {@link wrkArgs}. */
export interface WrkRun {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  /** Whole seconds; wrk takes no sub-second durations. */
  readonly seconds: number;
  /** Path of a Lua script (`-s`), if any. */
  readonly script?: string;
  /** Header lines sent with every request (`-H "Name: value"`), e.g. a policy's credentials. */
  readonly headers?: readonly string[];
}

/** The wrk command line (without `wrk` itself) for one run, always with `--latency`. */
export function wrkArgs(run: WrkRun): string[] {
  return [
    "--latency",
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    ...(run.script ? ["-s", run.script] : []),
    ...(run.headers ?? []).flatMap((h) => ["-H", h]),
    run.url,
  ];
}

/**
 * A wrk Lua script that turns every request into a POST of `bytes` bytes.
 * wrk would add Content-Length itself; it is set here so the script says
 * what goes on the wire.
 */
export function uploadLua(bytes: number): string {
  return `-- generated by scripts/bench.ts: POST ${bytes} bytes per request
wrk.method = "POST"
wrk.body = string.rep("x", ${bytes})
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Content-Length"] = tostring(#wrk.body)
`;
}
