/**
 * The benchmark's measuring loop: for each case, alternating rounds in
 * which every target runs once, one progress line per run. The h2 case
 * starts HTTPS instances of its targets first (scripts/bench/h2.ts) and
 * stops them when it is done.
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import { type CaseName, CASES, type H2Case } from "./cases.ts";
import { makeCertificate, startH2Targets, takesPartInH2 } from "./h2.ts";
import { type Figures, measureBig, measureH2, measureWrk } from "./measure.ts";
import { pinned } from "./pinning.ts";
import { run, stop } from "./processes.ts";
import { formatMs, type RunRecord } from "./report.ts";
import type { Target } from "./proxies.ts";
import type { TargetName } from "./targets.ts";
import { errorCount, parseWrkOutput, wrkArgs, type WrkRun } from "./wrk.ts";

/** What a benchmark produced, complete or cut short by Ctrl-C. */
export interface Outcome {
  readonly runs: RunRecord[];
  /** Target name → why it did not run (`name (h2)` for the h2 case's instances). */
  readonly skipped: Record<string, string>;
  /** Case name → why it did not run. */
  readonly skippedCases: Record<string, string>;
  /**
   * `<case> <target>` → errors in its unmeasured warm-up run, where there
   * were any: a cold start's failures (a policy's empty cache, new
   * connections) that the measured runs no longer show.
   */
  readonly warmupErrors: Record<string, number>;
  interrupted: boolean;
}

function describeRun(r: RunRecord): string {
  const head = `  ${r.case} round ${r.round} ${r.target.padEnd(13)}`;
  if (r.failure) return `${head} FAILED: ${r.failure.split("\n")[0]}`;
  const rate = r.requestsPerSec < 100
    ? r.requestsPerSec.toFixed(2)
    : Math.round(r.requestsPerSec).toLocaleString("en-US");
  const latency = Number.isFinite(r.p99Ms)
    ? `p50 ${formatMs(r.p50Ms)} ms, p99 ${formatMs(r.p99Ms)} ms`
    : `mean ${formatMs(r.meanMs ?? NaN)} ms, max ${formatMs(r.maxMs ?? NaN)} ms`;
  const mib = r.mibPerSec === undefined ? "" : `, ${Math.round(r.mibPerSec)} MiB/s`;
  const rss = r.peakRssMiB === undefined ? "" : `, RSS ${r.peakRssMiB.toFixed(1)} MiB` +
    (r.idleRssMiB === undefined ? "" : ` (idle ${r.idleRssMiB.toFixed(1)})`);
  const cpu = r.proxyCpus === undefined ? "" : `, CPU ${r.proxyCpus.toFixed(2)}`;
  return `${head} ${rate.padStart(8)} req/s${mib}, ${latency}, ${r.errors} errors${rss}${cpu}`;
}

/** The command-line choices the rounds follow. */
export interface RoundsOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly cases: readonly CaseName[];
  readonly targets: readonly TargetName[];
}

/** The load generators, by absolute path; the h2 case's are optional. */
export interface LoadTools {
  readonly wrk: string;
  readonly h2load?: string;
  readonly openssl?: string;
}

/** What every case needs to run. */
export interface CaseContext {
  readonly o: RoundsOptions;
  readonly tools: LoadTools;
  readonly env: BenchEnv;
  readonly backends: Backends;
  /** The plain-HTTP targets that started. */
  readonly targets: readonly Target[];
  readonly luaPath: string;
  readonly signal: AbortSignal;
  readonly outcome: Outcome;
}

/**
 * Runs every case over the started targets, appending to `runs` as it goes,
 * so what ran before an abort (Ctrl-C) is still reported.
 */
export async function runCases(ctx: CaseContext): Promise<void> {
  for (const caseName of ctx.o.cases) {
    const c = CASES[caseName];
    console.log(`\n${caseName}: ${c.help}`);
    if (c.kind === "h2") {
      await runH2Case(ctx, caseName, c);
      continue;
    }
    // With --pin the load generators run on the load side's CPUs.
    const launcher = pinned(ctx.env.pin, "load", []);
    // big_client sends no extra headers, and the policies' cost is measured on the wrk cases.
    const targets = c.kind === "big" ? ctx.targets.filter((t) => !t.policy) : ctx.targets;
    await runRounds(ctx, caseName, targets, async (target, round) => {
      const { o, tools, signal } = ctx;
      if (c.kind === "big") {
        const r = { case: c, port: target.port, seconds: o.durationS, root: ctx.env.root };
        return await measureBig(r, target, signal, launcher);
      }
      const wrkRun: WrkRun = {
        url: `http://127.0.0.1:${target.port}${c.path}`,
        connections: c.connections,
        threads: c.threads,
        seconds: o.durationS,
        script: c.upload ? ctx.luaPath : undefined,
        headers: target.headers,
      };
      if (round === 1 && o.warmupS > 0) {
        const warm = { ...wrkRun, seconds: o.warmupS };
        const out = await run([...launcher, tools.wrk, ...wrkArgs(warm)], signal);
        noteWarmup(ctx.outcome, `${caseName} ${target.name}`, out.stdout);
      }
      return await measureWrk(tools.wrk, wrkRun, target, signal, launcher);
    });
  }
}

/** Records (and prints) a warm-up run's errors; one that printed nothing parseable counts none. */
export function noteWarmup(outcome: Outcome, key: string, wrkOutput: string): void {
  let errors: number;
  try {
    errors = errorCount(parseWrkOutput(wrkOutput));
  } catch {
    return;
  }
  if (errors === 0) return;
  outcome.warmupErrors[key] = errors;
  console.log(`  ${key}: ${errors} errors in the warm-up run (not measured)`);
}

/** Alternating rounds: each round measures every target once. */
async function runRounds(
  ctx: CaseContext,
  caseName: CaseName,
  targets: readonly Target[],
  measure: (target: Target, round: number) => Promise<Figures>,
): Promise<void> {
  for (let round = 1; round <= ctx.o.rounds; round++) {
    for (const target of targets) {
      ctx.signal.throwIfAborted();
      const record = {
        case: caseName,
        round,
        target: target.name,
        ...await measure(target, round),
      };
      ctx.outcome.runs.push(record);
      console.log(describeRun(record));
    }
  }
}

/** Why the h2 case cannot run here, naming the packages to install; undefined when it can. */
export function h2ToolsMissing(tools: LoadTools): string | undefined {
  const missing: string[] = [];
  if (!tools.h2load) missing.push("h2load (apt-get install nghttp2-client)");
  if (!tools.openssl) missing.push("openssl (apt-get install openssl)");
  return missing.length > 0 ? `not installed: ${missing.join(", ")}` : undefined;
}

/** The h2 case: HTTPS instances of the lb targets and NGINX, started for it and stopped after. */
async function runH2Case(ctx: CaseContext, caseName: CaseName, c: H2Case): Promise<void> {
  const { o, tools, env, outcome } = ctx;
  const taking = o.targets.filter(takesPartInH2);
  const reason = h2ToolsMissing(tools) ??
    (taking.length === 0 ? "no lb target and no nginx among --targets" : undefined);
  if (reason) {
    outcome.skippedCases[caseName] = reason;
    console.log(`${caseName}: SKIPPED — ${reason}`);
    return;
  }
  const tls = await makeCertificate(tools.openssl!, env.tmp);
  const h2load = tools.h2load!;
  const targets = await startH2Targets(taking, {
    env,
    backends: ctx.backends,
    tls,
    h2load,
    skipped: outcome.skipped,
  });
  try {
    const launcher = pinned(env.pin, "load", []);
    await runRounds(ctx, caseName, targets, async (target, round) => {
      if (round === 1 && o.warmupS > 0) {
        const warm = { ...c, requests: Math.ceil(c.requests / 10) };
        await measureH2(h2load, warm, target, ctx.signal, launcher);
      }
      return await measureH2(h2load, c, target, ctx.signal, launcher);
    });
  } finally {
    for (const t of targets) if (t.proc) await stop(t.proc);
  }
}
