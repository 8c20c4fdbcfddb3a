/**
 * `deno task bench`: the lb's two fronts against their ceiling relays,
 * NGINX, HAProxy and a `fetch` proxy, on loopback, with wrk (plus a
 * streaming client for 256 MiB bodies and h2load for HTTP/2). See
 * docs/benchmarks.md for what each target and case is and how to read the
 * tables.
 *
 * Rounds alternate: for each case, each round runs every target once, so
 * slow drift on the machine (thermal, other load) spreads over all targets
 * instead of landing on whichever ran last. Medians over rounds go in the
 * tables; every run's figures go in `<out>/bench-<timestamp>.json`.
 *
 * `--workers 1,2` adds `lb-w2` and `nginx-w2` (scripts/bench/workers.ts);
 * `--policies all` adds `lb+<policy>` for each edge policy and `lb+all`
 * (scripts/bench/policy_targets.ts), each compared with `lb`;
 * `--pin` puts wrk and the backends on some CPUs and the proxy on the others
 * (scripts/bench/pinning.ts).
 *
 * Every process started is stopped in a `finally`, also on Ctrl-C.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { runCli } from "../lib/config/cli.ts";
import { type BackendKind, type Backends, type BenchEnv, startBackends } from "./bench/backends.ts";
import { CASES } from "./bench/cases.ts";
import { cpuLines } from "./bench/cpu.ts";
import { LARGE_BODY_BYTES } from "./bench/configs.ts";
import { formatFacts, type MachineFacts, machineFacts } from "./bench/machine.ts";
import { type BenchOptions as Options, parseOptions, USAGE } from "./bench/options.ts";
import { describePin, type PinPlan, pinProcessArgv, preparePinning } from "./bench/pinning.ts";
import { policyLabel } from "./bench/policy_configs.ts";
import { policyRatioPairs, policySection, withPolicyTargets } from "./bench/policy_report.ts";
import { policyEvidence, startPolicyTargets } from "./bench/policy_targets.ts";
import { findExecutable, Processes, run } from "./bench/processes.ts";
import { SkipTarget, type Target } from "./bench/proxies.ts";
import { benchReplay } from "./bench/replay.ts";
import { RATIO_PAIRS, ratioRows, ratioTable, rssGoalLines } from "./bench/ratios.ts";
import { bigTable, h2Table, markdownTable, summarize } from "./bench/report.ts";
import { type Outcome, runCases } from "./bench/rounds.ts";
import { startTarget } from "./bench/targets.ts";
import { targetSpecs, workerRatioPairs, workerReport } from "./bench/workers.ts";
import { uploadLua } from "./bench/wrk.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Starts the requested targets, printing why any is skipped. */
async function startTargets(
  o: Options,
  env: BenchEnv,
  backends: Backends,
  skipped: Record<string, string>,
): Promise<Target[]> {
  const started: Target[] = [];
  for (const { name, workers, label } of targetSpecs(o.targets, o.workers)) {
    try {
      started.push(await startTarget(name, env, backends, { workers }));
      console.log(`target ${label}: ready on port ${started.at(-1)!.port}`);
    } catch (err) {
      if (!(err instanceof SkipTarget)) throw err;
      skipped[label] = err.message;
      console.log(`target ${label}: SKIPPED — ${err.message}`);
    }
  }
  return [...started, ...await startPolicyTargets(o.policies, env, backends, skipped)];
}

/** The programs the benchmark runs; exits with the apt package to install when wrk is missing. */
interface Tools {
  readonly wrk: string;
  readonly nginx?: string;
  readonly haproxy?: string;
  /** For the h2 case only. */
  readonly h2load?: string;
  readonly openssl?: string;
  readonly backendKind: BackendKind;
}

function findTools(o: Options): Tools {
  const wrk = findExecutable("wrk");
  if (!wrk) {
    console.error(
      "bench: wrk is not installed; install it with: sudo apt-get install wrk " +
        "(nginx-light and haproxy add the reference targets)",
    );
    Deno.exit(1);
  }
  const nginx = findExecutable("nginx");
  const haproxy = findExecutable("haproxy");
  if (o.backend === "nginx" && !nginx) {
    console.error(
      "bench: --backend nginx, but nginx is not installed (apt-get install nginx-light)",
    );
    Deno.exit(1);
  }
  if (!nginx) console.log("nginx not installed (apt-get install nginx-light): Deno backends");
  if (!haproxy) console.log("haproxy not installed (apt-get install haproxy)");
  const backendKind = o.backend === "auto" ? (nginx ? "nginx" : "deno") : o.backend;
  const h2load = findExecutable("h2load");
  const openssl = findExecutable("openssl");
  return { wrk, nginx, haproxy, h2load, openssl, backendKind };
}

/** How the run was pinned: the plan, if any, and the line the report prints. */
interface Pinning {
  readonly plan?: PinPlan;
  readonly note: string;
}

/** With `--pin`, the plan, or why there is none (printed, never fatal). */
async function pinning(o: Options): Promise<Pinning> {
  if (!o.pin) return { note: "not pinned: wrk, the backends and the proxy share every CPU" };
  const plan = await preparePinning();
  if (typeof plan === "string") {
    console.log(`pinning: SKIPPED — ${plan}`);
    return { note: `not pinned (--pin skipped: ${plan})` };
  }
  console.log(describePin(plan));
  return { plan, note: describePin(plan) };
}

/** What {@link benchmark} measured, and each target's RSS right after it started. */
interface Measured {
  readonly outcome: Outcome;
  readonly startRssMiB: Record<string, number | undefined>;
  /** Policy target → its non-zero policy metrics after the runs. */
  readonly policyEvidence: Record<string, string[]>;
}

/**
 * Starts backends and targets in a private temp dir, runs the cases, and
 * stops every process and removes the temp dir whatever happens. SIGINT and
 * SIGTERM end the measurements early; what ran so far is kept.
 */
async function benchmark(o: Options, tools: Tools, pin?: PinPlan): Promise<Measured> {
  const outcome: Outcome = {
    runs: [],
    skipped: {},
    skippedCases: {},
    warmupErrors: {},
    interrupted: false,
  };
  const startRssMiB: Record<string, number | undefined> = {};
  let evidence: Record<string, string[]> = {};
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const tmp = await Deno.makeTempDir({ prefix: "deno-lb-bench-" });
  // NGINX workers run as an unprivileged user when started as root.
  await Deno.chmod(tmp, 0o755);
  const procs = new Processes();
  const env: BenchEnv = { procs, tmp, root: ROOT, nginx: tools.nginx, haproxy: tools.haproxy, pin };
  try {
    // The benchmark's own sampling and bookkeeping belong to the load side, off the proxy's CPUs.
    if (pin) await run(pinProcessArgv(pin, "load", Deno.pid));
    const backends = await startBackends(env, tools.backendKind);
    console.log(`backends: ${backends.kind} on ${backends.addrs.join(", ")}`);
    const targets = await startTargets(o, env, backends, outcome.skipped);
    for (const t of targets) startRssMiB[t.name] = t.startRssMiB;
    const luaPath = `${tmp}/upload.lua`;
    await Deno.writeTextFile(luaPath, uploadLua(LARGE_BODY_BYTES));
    const signal = controller.signal;
    await runCases({ o, tools, env, backends, targets, luaPath, signal, outcome });
    evidence = await policyEvidence(targets, env);
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    outcome.interrupted = true;
  } finally {
    await procs.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return { outcome, startRssMiB, policyEvidence: evidence };
}

/** What {@link report} prints and saves. */
interface ReportInput {
  readonly o: Options;
  readonly tools: Tools;
  readonly facts: MachineFacts;
  readonly startedAt: Date;
  readonly pinning: Pinning;
  readonly measured: Measured;
}

/** Prints the Markdown tables and writes every figure to `<out>/bench-<timestamp>.json`. */
async function report(i: ReportInput): Promise<void> {
  const { o, tools, facts, pinning } = i;
  const { runs, skipped, skippedCases, warmupErrors, interrupted } = i.measured.outcome;
  // Table order: each target's worker variants right after it; the h2 case's one-worker
  // instances by their plain names even when --workers leaves out 1.
  const names = withPolicyTargets(
    [...new Set([...targetSpecs(o.targets, o.workers).map((s) => s.label), ...o.targets])],
    o.policies.map(policyLabel),
  );
  const summary: Record<string, ReturnType<typeof summarize>> = Object.fromEntries(
    o.cases.map((c) => [c, summarize(runs.filter((r) => r.case === c), names)]),
  );
  const command = ["deno task bench", ...Deno.args].join(" ");
  console.log(`\n# Results${interrupted ? " (interrupted: partial)" : ""}\n`);
  console.log(
    `\`${command}\` — ${o.rounds} round(s) of ${o.durationS}s, ${tools.backendKind} backends; ` +
      `${pinning.note}\n`,
  );
  console.log(`${formatFacts(facts)}\n`);
  const measured = o.cases.filter((c) => summary[c].length > 0);
  for (const c of measured) {
    const kind = CASES[c].kind;
    const table = kind === "big" ? bigTable : kind === "h2" ? h2Table : markdownTable;
    console.log(`## ${c}: ${CASES[c].help}\n\n${table(summary[c])}\n`);
  }
  const pairs = [
    ...RATIO_PAIRS,
    ...workerRatioPairs(o.workers),
    ...policyRatioPairs(o.policies.map(policyLabel)),
  ];
  const ratios = measured.flatMap((c) => ratioRows(c, summary[c], pairs));
  if (ratios.length > 0) {
    console.log(`## Ratios\n\nMedians of one target over another's, per case; ${pinning.note}.\n`);
    console.log(`${ratioTable(ratios)}\n`);
  }
  const cpu = measured.flatMap((c) => cpuLines(c, summary[c]));
  if (cpu.length > 0) {
    console.log(
      `## Proxy CPU\n\nMedian CPUs busy in the proxy's processes and threads; ${pinning.note}.\n`,
    );
    console.log(`${cpu.join("\n")}\n`);
  }
  const goals = measured.flatMap((c) => rssGoalLines(c, summary[c]));
  if (goals.length > 0) console.log(`## Memory with 256 MiB bodies\n\n${goals.join("\n")}\n`);
  const cores = {
    pinned: pinning.plan !== undefined,
    proxyCpus: pinning.plan?.proxy.length ?? 0,
    machineCpus: facts.nproc,
  };
  const summaries = measured.map((c) => [c, summary[c]] as const);
  const startRssMiB = i.measured.startRssMiB;
  const workers = workerReport({ summaries, workers: o.workers, cores, startRssMiB });
  if (workers) console.log(workers);
  const policies = policySection(summaries, i.measured.policyEvidence, pinning.note);
  if (policies) console.log(policies);
  for (const [name, reason] of Object.entries(skipped)) console.log(`skipped ${name}: ${reason}`);
  for (const [name, reason] of Object.entries(skippedCases)) {
    console.log(`skipped case ${name}: ${reason}`);
  }
  for (const [run, n] of Object.entries(warmupErrors)) {
    console.log(`warm-up of ${run}: ${n} errors (not in the tables)`);
  }

  await Deno.mkdir(o.out, { recursive: true });
  const file = `${o.out}/bench-${i.startedAt.toISOString().replaceAll(":", "-")}.json`;
  const json = {
    command,
    startedAt: i.startedAt,
    finishedAt: new Date(),
    interrupted,
    options: o,
    cases: Object.fromEntries(o.cases.map((c) => [c, CASES[c]])),
    machine: facts,
    backends: tools.backendKind,
    pinning: pinning.plan ?? pinning.note,
    startRssMiB: i.measured.startRssMiB,
    policyEvidence: i.measured.policyEvidence,
    skipped,
    skippedCases,
    warmupErrors,
    summary,
    ratios,
    runs,
  };
  await Deno.writeTextFile(file, JSON.stringify(json, null, 2) + "\n");
  console.log(`raw figures: ${file}`);
}

async function main(): Promise<void> {
  const o = parseOptions(Deno.args);
  if (o === "help") return void console.log(USAGE);
  if (o.replay) return void console.log(await benchReplay(ROOT, o.rounds));
  const tools = findTools(o);
  const facts = await machineFacts(tools, ROOT);
  console.log(`Machine:\n${formatFacts(facts)}\n`);
  const pinned = await pinning(o);
  const startedAt = new Date();
  const measured = await benchmark(o, tools, pinned.plan);
  await report({ o, tools, facts, startedAt, pinning: pinned, measured });
  if (measured.outcome.interrupted) Deno.exit(130);
}

if (import.meta.main) await runCli("bench", main);
