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
 * Every process started is stopped in a `finally`, also on Ctrl-C.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseFlags, Problems, runCli } from "../lib/config/cli.ts";
import { type BackendKind, type Backends, type BenchEnv, startBackends } from "./bench/backends.ts";
import { CASE_NAMES, type CaseName, CASES } from "./bench/cases.ts";
import { LARGE_BODY_BYTES } from "./bench/configs.ts";
import { formatFacts, type MachineFacts, machineFacts } from "./bench/machine.ts";
import { findExecutable, Processes } from "./bench/processes.ts";
import { ratioRows, ratioTable, rssGoalLines } from "./bench/ratios.ts";
import { bigTable, h2Table, markdownTable, summarize } from "./bench/report.ts";
import { type Outcome, runCases } from "./bench/rounds.ts";
import {
  DEFAULT_TARGETS,
  SkipTarget,
  startTarget,
  type Target,
  TARGET_HELP,
  TARGET_NAMES,
  type TargetName,
} from "./bench/targets.ts";
import { uploadLua } from "./bench/wrk.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const USAGE =
  `bench — the lb's fronts against their ceiling relays, NGINX, HAProxy and a fetch proxy

Usage: deno task bench [flags]

  --duration D     each measured wrk or big_client run (5s; whole seconds)
  --warmup D       unmeasured run per target and case before its first round (1s; 0s: none;
                   the 256 MiB cases have none)
  --rounds N       measured runs per target and case, alternating targets (3)
  --cases LIST     comma-separated, from: ${CASE_NAMES.join(", ")} (all)
  --targets LIST   comma-separated, from: ${TARGET_NAMES.join(", ")}
                   (all but lb-node-http)
  --backend KIND   auto | nginx | deno: what serves the three backends (auto: nginx if installed)
  --out DIR        where bench-<timestamp>.json goes (bench-results)
  --help

Cases:
${CASE_NAMES.map((c) => `  ${c.padEnd(15)}${CASES[c].help}`).join("\n")}

Targets:
${TARGET_NAMES.map((t) => `  ${t.padEnd(15)}${TARGET_HELP[t]}`).join("\n")}

Needs wrk; nginx-light and haproxy are optional (apt-get install wrk nginx-light haproxy), and
the h2 case needs h2load and openssl (apt-get install nghttp2-client openssl).`;

/** The parsed command line. */
interface Options {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly cases: readonly CaseName[];
  readonly targets: readonly TargetName[];
  readonly backend: "auto" | BackendKind;
  readonly out: string;
}

function listFlag<T extends string>(
  p: Problems,
  flag: string,
  raw: unknown,
  all: readonly T[],
  defaults: readonly T[] = all,
): T[] {
  if (typeof raw !== "string") return [...defaults];
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(all as readonly string[]).includes(n)) {
      p.add(flag, `"${n}" is not one of ${all.join(", ")}`);
    }
  }
  // Table order, whatever order the flag gave.
  return all.filter((n) => names.includes(n));
}

function parseOptions(args: readonly string[]): Options | "help" {
  const f = parseFlags(args, {
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    cases: { type: "string" },
    targets: { type: "string" },
    backend: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (f.help) return "help";
  const p = new Problems();
  const problemsBefore = p.list.length;
  const duration = p.duration("duration", String(f.duration ?? "5s"));
  if (p.list.length === problemsBefore && duration < 1000) {
    p.add("duration", "must be at least 1s (wrk counts seconds)");
  }
  const warmup = p.duration("warmup", String(f.warmup ?? "1s"));
  const options: Options = {
    durationS: Math.round(duration / 1000),
    warmupS: warmup === 0 ? 0 : Math.max(1, Math.round(warmup / 1000)),
    rounds: p.integer("rounds", String(f.rounds ?? "3"), 1, 100),
    cases: listFlag(p, "cases", f.cases, CASE_NAMES),
    targets: listFlag(p, "targets", f.targets, TARGET_NAMES, DEFAULT_TARGETS),
    backend: p.choice("backend", String(f.backend ?? "auto"), ["auto", "nginx", "deno"]),
    out: String(f.out ?? "bench-results"),
  };
  if (options.cases.length === 0) p.add("cases", "names no case");
  if (options.targets.length === 0) p.add("targets", "names no target");
  p.throwIfAny();
  return options;
}

/** Starts the requested targets, printing why any is skipped. */
async function startTargets(
  o: Options,
  env: BenchEnv,
  backends: Backends,
  skipped: Record<string, string>,
): Promise<Target[]> {
  const started: Target[] = [];
  for (const name of o.targets) {
    try {
      started.push(await startTarget(name, env, backends));
      console.log(`target ${name}: ready on port ${started.at(-1)!.port}`);
    } catch (err) {
      if (!(err instanceof SkipTarget)) throw err;
      skipped[name] = err.message;
      console.log(`target ${name}: SKIPPED — ${err.message}`);
    }
  }
  return started;
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

/**
 * Starts backends and targets in a private temp dir, runs the cases, and
 * stops every process and removes the temp dir whatever happens. SIGINT and
 * SIGTERM end the measurements early; what ran so far is kept.
 */
async function benchmark(o: Options, tools: Tools): Promise<Outcome> {
  const outcome: Outcome = { runs: [], skipped: {}, skippedCases: {}, interrupted: false };
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const tmp = await Deno.makeTempDir({ prefix: "deno-lb-bench-" });
  // NGINX workers run as an unprivileged user when started as root.
  await Deno.chmod(tmp, 0o755);
  const procs = new Processes();
  const env: BenchEnv = { procs, tmp, root: ROOT, nginx: tools.nginx, haproxy: tools.haproxy };
  try {
    const backends = await startBackends(env, tools.backendKind);
    console.log(`backends: ${backends.kind} on ${backends.addrs.join(", ")}`);
    const targets = await startTargets(o, env, backends, outcome.skipped);
    const luaPath = `${tmp}/upload.lua`;
    await Deno.writeTextFile(luaPath, uploadLua(LARGE_BODY_BYTES));
    const signal = controller.signal;
    await runCases({ o, tools, env, backends, targets, luaPath, signal, outcome });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    outcome.interrupted = true;
  } finally {
    await procs.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return outcome;
}

/** Prints the Markdown tables and writes every figure to `<out>/bench-<timestamp>.json`. */
async function report(
  o: Options,
  tools: Tools,
  facts: MachineFacts,
  startedAt: Date,
  outcome: Outcome,
): Promise<void> {
  const { runs, skipped, skippedCases, interrupted } = outcome;
  const summary: Record<string, ReturnType<typeof summarize>> = Object.fromEntries(
    o.cases.map((c) => [c, summarize(runs.filter((r) => r.case === c), o.targets)]),
  );
  const command = ["deno task bench", ...Deno.args].join(" ");
  console.log(`\n# Results${interrupted ? " (interrupted: partial)" : ""}\n`);
  console.log(
    `\`${command}\` — ${o.rounds} round(s) of ${o.durationS}s, ${tools.backendKind} backends\n`,
  );
  console.log(`${formatFacts(facts)}\n`);
  const measured = o.cases.filter((c) => summary[c].length > 0);
  for (const c of measured) {
    const kind = CASES[c].kind;
    const table = kind === "big" ? bigTable : kind === "h2" ? h2Table : markdownTable;
    console.log(`## ${c}: ${CASES[c].help}\n\n${table(summary[c])}\n`);
  }
  const ratios = measured.flatMap((c) => ratioRows(c, summary[c]));
  if (ratios.length > 0) {
    console.log(`## Ratios\n\nMedians of one target over another's, per case.\n`);
    console.log(`${ratioTable(ratios)}\n`);
  }
  const goals = measured.flatMap((c) => rssGoalLines(c, summary[c]));
  if (goals.length > 0) console.log(`## Memory with 256 MiB bodies\n\n${goals.join("\n")}\n`);
  for (const [name, reason] of Object.entries(skipped)) {
    console.log(`skipped ${name}: ${reason}`);
  }
  for (const [name, reason] of Object.entries(skippedCases)) {
    console.log(`skipped case ${name}: ${reason}`);
  }

  await Deno.mkdir(o.out, { recursive: true });
  const file = `${o.out}/bench-${startedAt.toISOString().replaceAll(":", "-")}.json`;
  const json = {
    command,
    startedAt,
    finishedAt: new Date(),
    interrupted,
    options: o,
    cases: Object.fromEntries(o.cases.map((c) => [c, CASES[c]])),
    machine: facts,
    backends: tools.backendKind,
    skipped,
    skippedCases,
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
  const tools = findTools(o);
  const facts = await machineFacts(tools, ROOT);
  console.log(`Machine:\n${formatFacts(facts)}\n`);
  const startedAt = new Date();
  const outcome = await benchmark(o, tools);
  await report(o, tools, facts, startedAt, outcome);
  if (outcome.interrupted) Deno.exit(130);
}

if (import.meta.main) await runCli("bench", main);
