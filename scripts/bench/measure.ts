/**
 * One measured run of one target, for each of the three load generators:
 * run the command with the proxy's memory sampled every 100 ms, parse what
 * it printed, and reduce it to a run record's figures. A run that failed
 * (the command exited badly, printed nothing parseable, or measured
 * nothing) gets a `failure` instead of figures, never an exception; an
 * abort (Ctrl-C) does throw.
 *
 * Each takes a `launcher`: the argv prefix the load generator runs under
 * (`taskset -c 0` with `--pin`, else nothing).
 *
 * @module
 */

import { type BigClientResult, parseBigClientOutput } from "./big_client.ts";
import type { BigCase, H2Case } from "./cases.ts";
import { CpuMeter } from "./cpu.ts";
import { h2loadArgs, h2loadErrors, h2loadFailure, parseH2loadOutput } from "./h2load.ts";
import { type CommandResult, processTree, rssKiB, RssSampler, run } from "./processes.ts";
import type { RunRecord } from "./report.ts";
import type { Target } from "./proxies.ts";
import { errorCount, parseWrkOutput, wrkArgs, type WrkRun } from "./wrk.ts";

/** What one run adds to its case, round and target. */
export type Figures = Omit<RunRecord, "case" | "round" | "target">;

const MIB = 1024 * 1024;

/** Past the load's own bound, how long a load generator may take before it is killed. */
const GRACE_MS = 90_000;

function failed(failure: string, peakRssMiB: number | undefined): Figures {
  return { requestsPerSec: 0, p50Ms: NaN, p99Ms: NaN, errors: 0, peakRssMiB, failure };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What {@link sampled} measured of the target besides the command's own output. */
interface Sampled {
  readonly result: CommandResult;
  readonly peakRssMiB?: number;
  readonly proxyCpus?: number;
}

/**
 * Runs `argv` with the target's memory sampled and its CPU use metered;
 * `signal` (Ctrl-C) is re-thrown, `limitMs` kills a command that hangs.
 */
async function sampled(
  argv: readonly string[],
  target: Target,
  signal: AbortSignal,
  limitMs: number,
): Promise<Sampled> {
  const pid = target.proc?.pid;
  const sampler = pid === undefined ? undefined : new RssSampler(pid);
  const meter = pid === undefined ? undefined : new CpuMeter(() => processTree(pid));
  let result: CommandResult;
  let peakRssMiB: number | undefined;
  let proxyCpus: number | undefined;
  try {
    result = await run(argv, AbortSignal.any([signal, AbortSignal.timeout(limitMs)]));
  } finally {
    peakRssMiB = sampler?.stop();
    proxyCpus = meter?.stop();
  }
  // An abort kills the command, which then exits like a failed run: not a measurement.
  signal.throwIfAborted();
  return proxyCpus === undefined ? { result, peakRssMiB } : { result, peakRssMiB, proxyCpus };
}

/** One wrk run. */
export async function measureWrk(
  wrk: string,
  wrkRun: WrkRun,
  target: Target,
  signal: AbortSignal,
  launcher: readonly string[] = [],
): Promise<Figures> {
  const limit = wrkRun.seconds * 1000 + GRACE_MS;
  const argv = [...launcher, wrk, ...wrkArgs(wrkRun)];
  const { result, peakRssMiB, proxyCpus } = await sampled(argv, target, signal, limit);
  if (result.code !== 0) {
    return failed(`wrk exited ${result.code}: ${result.stderr.trim()}`, peakRssMiB);
  }
  try {
    const wrkResult = parseWrkOutput(result.stdout);
    return {
      requestsPerSec: wrkResult.requestsPerSec,
      p50Ms: wrkResult.percentilesMs[50],
      p99Ms: wrkResult.percentilesMs[99],
      errors: errorCount(wrkResult),
      peakRssMiB,
      ...(proxyCpus === undefined ? {} : { proxyCpus }),
      wrk: wrkResult,
    };
  } catch (err) {
    return failed(message(err), peakRssMiB);
  }
}

/** Options for {@link measureBig}. */
export interface BigRun {
  readonly case: BigCase;
  readonly port: number;
  readonly seconds: number;
  /** The repository root, where `scripts/bench/big_client.ts` is. */
  readonly root: string;
}

/** How long one 256 MiB request may take before big_client gives up on it. */
const BIG_REQUEST_TIMEOUT_S = 60;

/** The big_client command line for one run. */
export function bigClientArgs(r: BigRun): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-net",
    `${r.root}/scripts/bench/big_client.ts`,
    ...["--url", `http://127.0.0.1:${r.port}${r.case.path}`],
    ...["--connections", String(r.case.connections), "--duration", `${r.seconds}s`],
    ...["--upload-bytes", String(r.case.uploadBytes)],
    ...["--timeout", `${BIG_REQUEST_TIMEOUT_S}s`],
  ];
}

/** A big_client result as run figures (rates per second of its whole run). */
export function bigFigures(c: BigClientResult): Omit<Figures, "peakRssMiB" | "idleRssMiB"> {
  const seconds = c.durationMs / 1000;
  return {
    requestsPerSec: c.requests / seconds,
    p50Ms: c.latency.p50Ms,
    p99Ms: c.latency.p99Ms,
    meanMs: c.latency.meanMs,
    maxMs: c.latency.maxMs,
    mibPerSec: (c.bytesSent + c.bytesReceived) / MIB / seconds,
    errors: c.errors,
    client: c,
  };
}

/**
 * One big_client run. The target's resident memory is read just before,
 * so the record holds both its idle size and its peak during the run.
 */
export async function measureBig(
  r: BigRun,
  target: Target,
  signal: AbortSignal,
  launcher: readonly string[] = [],
): Promise<Figures> {
  const idleRssMiB = target.proc ? rssKiB(processTree(target.proc.pid)) / 1024 : undefined;
  const limit = (r.seconds + BIG_REQUEST_TIMEOUT_S) * 1000 + GRACE_MS;
  const argv = [...launcher, ...bigClientArgs(r)];
  const { result, peakRssMiB } = await sampled(argv, target, signal, limit);
  const withIdle = (f: Figures): Figures => idleRssMiB === undefined ? f : { ...f, idleRssMiB };
  if (result.code !== 0) {
    return withIdle(
      failed(`big_client exited ${result.code}: ${result.stderr.trim()}`, peakRssMiB),
    );
  }
  try {
    const c = parseBigClientOutput(result.stdout);
    const figures = { ...bigFigures(c), peakRssMiB };
    if (c.requests === 0) {
      return withIdle({ ...figures, failure: `no request completed: ${c.firstError ?? "?"}` });
    }
    return withIdle(figures);
  } catch (err) {
    return withIdle(failed(message(err), peakRssMiB));
  }
}

/** One h2load run against `https://127.0.0.1:<port><path>`. */
export async function measureH2(
  h2load: string,
  c: H2Case,
  target: Target,
  signal: AbortSignal,
  launcher: readonly string[] = [],
): Promise<Figures> {
  const url = `https://127.0.0.1:${target.port}${c.path}`;
  const argv = [...launcher, h2load, ...h2loadArgs({ ...c, url })];
  const { result, peakRssMiB } = await sampled(argv, target, signal, GRACE_MS);
  if (result.code !== 0) {
    return failed(`h2load exited ${result.code}: ${result.stderr.trim()}`, peakRssMiB);
  }
  try {
    const h = parseH2loadOutput(result.stdout);
    const figures: Figures = {
      requestsPerSec: h.requestsPerSec,
      // h2load reports no percentiles: mean and max only.
      p50Ms: NaN,
      p99Ms: NaN,
      meanMs: h.request.meanMs,
      maxMs: h.request.maxMs,
      errors: h2loadErrors(h),
      peakRssMiB,
      h2load: h,
    };
    const failure = h2loadFailure(h);
    return failure ? { ...figures, failure } : figures;
  } catch (err) {
    return failed(message(err), peakRssMiB);
  }
}
