/**
 * Everything about `h2load` (nghttp2's HTTP/2 load generator) that needs no
 * process: its command line and a parser for what it prints.
 *
 * h2load (1.52, `src/h2load.cc`) prints durations with
 * `util::format_duration`: `us` below a millisecond, `ms` below a second,
 * else `s`. It exits 0 even when every request failed (refused, TLS
 * without h2), so the counts are what tell a run's health: `failed`
 * includes `errored` and `timeout`, and also requests answered with a
 * status it does not count as success (4xx, 5xx). When ALPN does not give
 * `h2` it falls back to HTTP/1.1 and says so on the `Application protocol:`
 * line; the benchmark treats that as a failed run.
 *
 * @module
 */

/** min / max / mean / sd of one of h2load's timing lines, in milliseconds. */
export interface H2loadTiming {
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly sdMs: number;
}

/** The figures of one h2load run. */
export interface H2loadResult {
  /** The `Application protocol:` line (`h2`, `http/1.1`); absent when no connection got that far. */
  readonly protocol?: string;
  /** The "finished in" time, in milliseconds. */
  readonly durationMs: number;
  readonly requestsPerSec: number;
  readonly requests: {
    readonly total: number;
    readonly started: number;
    readonly done: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly errored: number;
    readonly timeout: number;
  };
  readonly status: {
    readonly "2xx": number;
    readonly "3xx": number;
    readonly "4xx": number;
    readonly "5xx": number;
  };
  /** `time for request`: from sending a request to its last byte. */
  readonly request: H2loadTiming;
  readonly connect: H2loadTiming;
  readonly firstByte: H2loadTiming;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 1e-3, ms: 1, s: 1e3 };

/** Converts an h2load duration such as `305us`, `17.62ms` or `1.38s` to milliseconds. */
export function parseH2loadTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) {
    throw new Error(`not an h2load duration: "${text}" (expected e.g. 305us, 17.62ms, 1.38s)`);
  }
  return Number(m[1]) * UNIT_MS[m[2]];
}

function required(output: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(output);
  if (!m) throw new Error(`h2load output has no ${what} line:\n${output}`);
  return m;
}

function timing(output: string, label: string): H2loadTiming {
  const re = new RegExp(`^${label}:\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)`, "m");
  const m = required(output, re, `"${label}"`);
  return {
    minMs: parseH2loadTime(m[1]),
    maxMs: parseH2loadTime(m[2]),
    meanMs: parseH2loadTime(m[3]),
    sdMs: parseH2loadTime(m[4]),
  };
}

/**
 * Parses h2load's stdout. Throws, quoting the output, when a line every run
 * prints is missing (h2load that could not start prints only its error).
 */
export function parseH2loadOutput(output: string): H2loadResult {
  const text = output.replaceAll("\r\n", "\n");
  const finished = required(text, /^finished in (\S+), ([\d.]+) req\/s/m, '"finished in"');
  const r = required(
    text,
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m,
    '"requests:"',
  ).slice(1).map(Number);
  const s = required(
    text,
    /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m,
    '"status codes:"',
  )
    .slice(1).map(Number);
  const protocol = /^Application protocol: (\S+)/m.exec(text)?.[1];
  return {
    ...(protocol === undefined ? {} : { protocol }),
    durationMs: parseH2loadTime(finished[1]),
    requestsPerSec: Number(finished[2]),
    requests: {
      total: r[0],
      started: r[1],
      done: r[2],
      succeeded: r[3],
      failed: r[4],
      errored: r[5],
      timeout: r[6],
    },
    status: { "2xx": s[0], "3xx": s[1], "4xx": s[2], "5xx": s[3] },
    request: timing(text, "time for request"),
    connect: timing(text, "time for connect"),
    firstByte: timing(text, "time to 1st byte"),
  };
}

/**
 * Why a parsed run is not a measurement of HTTP/2, or undefined when it is:
 * a protocol other than h2, or no request succeeding.
 */
export function h2loadFailure(r: H2loadResult): string | undefined {
  if (r.protocol !== undefined && r.protocol !== "h2") {
    return `negotiated ${r.protocol}, not h2 (the server's ALPN does not offer h2)`;
  }
  if (r.requests.succeeded === 0) {
    return `no request succeeded (${r.requests.failed} failed, ${r.requests.errored} errored)`;
  }
  return undefined;
}

/** Failed requests: `failed` already counts the errored and timed-out ones. */
export function h2loadErrors(r: H2loadResult): number {
  return r.requests.failed;
}

/** Options for {@link h2loadArgs}. */
export interface H2loadRun {
  readonly url: string;
  /** `-n`: requests in all. */
  readonly requests: number;
  /** `-c`: client connections. */
  readonly clients: number;
  /** `-m`: concurrent streams per connection. */
  readonly streams: number;
}

/** The h2load command line (without `h2load` itself). */
export function h2loadArgs(run: H2loadRun): string[] {
  return [
    "-n",
    String(run.requests),
    "-c",
    String(run.clients),
    "-m",
    String(run.streams),
    run.url,
  ];
}
