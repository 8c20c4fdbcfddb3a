/**
 * The benchmark's command line: its usage text and a parser from flags to
 * {@link BenchOptions}, collecting every problem (each naming its flag)
 * before it throws. Pure, so the tests can check what each flag means.
 *
 * @module
 */

import { parseFlags, Problems } from "../../lib/config/cli.ts";
import type { BackendKind } from "./backends.ts";
import { CASE_NAMES, type CaseName, CASES, DEFAULT_CASES } from "./cases.ts";
import { POLICY_HELP, POLICY_VARIANTS, type PolicyVariantName } from "./policy_configs.ts";
import {
  DEFAULT_TARGETS,
  TARGET_HELP,
  TARGET_NAMES,
  type TargetName,
  WORKER_TARGETS,
} from "./targets.ts";

/** The most workers `--workers` takes per target. */
export const MAX_WORKERS = 64;

/** `deno task bench --help`. */
export const USAGE =
  `bench — the lb's fronts against their ceiling relays, NGINX, HAProxy and a fetch proxy

Usage: deno task bench [flags]

  --duration D     each measured wrk or big_client run (5s; whole seconds)
  --warmup D       unmeasured run per target and case before its first round (1s; 0s: none;
                   the 256 MiB cases have none)
  --rounds N       measured runs per target and case, alternating targets (3)
  --cases LIST     comma-separated, from: ${CASE_NAMES.join(", ")}
                   (all but text)
  --targets LIST   comma-separated, from: ${TARGET_NAMES.join(", ")}
                   (all but lb-node-http)
  --workers LIST   worker counts for ${WORKER_TARGETS.join(" and ")} (1): each N above 1 adds
                   lb-wN (main.ts --workers N) and nginx-wN (worker_processes N); without 1
                   in the list, lb and nginx run only as their -wN variants
  --policies LIST  edge-policy variants of lb, each a target lb+<name> run in the same rounds
                   and compared with lb (needs lb in --targets and 1 in --workers): all, or
                   comma-separated variants (listed below)
  --pin            wrk and the backends on the lower half of the CPUs, the proxy (all its
                   threads and processes) on the upper half, with taskset; skipped with the
                   reason where taskset is missing or fewer than 2 CPUs may be used
  --backend KIND   auto | nginx | deno: what serves the three backends (auto: nginx if installed)
  --out DIR        where bench-<timestamp>.json goes (bench-results)
  --replay         only time lb replay on a 100,000-line access log, --rounds times (no wrk)
  --help

Cases:
${CASE_NAMES.map((c) => `  ${c.padEnd(15)}${CASES[c].help}`).join("\n")}

Targets:
${TARGET_NAMES.map((t) => `  ${t.padEnd(15)}${TARGET_HELP[t]}`).join("\n")}

Policy variants (--policies: target lb+<name>, a config file holding only that policy):
${POLICY_VARIANTS.map((v) => `  ${v.padEnd(17)}${POLICY_HELP[v]}`).join("\n")}

Needs wrk; nginx-light and haproxy are optional (apt-get install wrk nginx-light haproxy), and
the h2 case needs h2load and openssl (apt-get install nghttp2-client openssl).`;

/** The parsed command line. */
export interface BenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly cases: readonly CaseName[];
  /** Base target names, in table order. */
  readonly targets: readonly TargetName[];
  /** Worker counts for the {@link WORKER_TARGETS}, ascending, each once. */
  readonly workers: readonly number[];
  /** Edge-policy variants of `lb` to run beside it (`lb+<name>`), in table order. */
  readonly policies: readonly PolicyVariantName[];
  /** Whether to pin the load and the proxy to separate CPUs. */
  readonly pin: boolean;
  readonly backend: "auto" | BackendKind;
  readonly out: string;
  /** Only time `lb replay` (scripts/bench/replay.ts). */
  readonly replay: boolean;
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

/** `--workers 1,2`: whole numbers from 1 to {@link MAX_WORKERS}, ascending, each once. */
export function workersFlag(p: Problems, raw: unknown): number[] {
  if (typeof raw !== "string") return [1];
  const parts = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) p.add("workers", "names no worker count (expected e.g. 1,2)");
  const counts = parts.map((s) => p.integer("workers", s, 1, MAX_WORKERS));
  return [...new Set(counts)].sort((a, b) => a - b);
}

/**
 * `--policies all` or a list of variants; every variant is compared with
 * `lb` at one worker, so that target must run.
 */
export function policiesFlag(
  p: Problems,
  raw: unknown,
  targets: readonly TargetName[],
  workers: readonly number[],
): PolicyVariantName[] {
  if (raw === undefined) return [];
  const text = String(raw);
  const all = text.split(",").some((s) => s.trim() === "all");
  const names = all ? [...POLICY_VARIANTS] : listFlag(p, "policies", text, POLICY_VARIANTS);
  if (names.length === 0) {
    p.add("policies", "names no variant (expected all, or e.g. ip,rate-limit)");
  }
  if (names.length > 0 && !targets.includes("lb")) {
    p.add("policies", "each variant is compared with lb, and --targets has no lb");
  }
  if (names.length > 0 && !workers.includes(1)) {
    p.add("policies", "the variants run with one worker, as lb does; --workers has no 1");
  }
  return names;
}

/** Parses the benchmark's flags; "help" for `--help`; throws a UsageError listing every problem. */
export function parseOptions(args: readonly string[]): BenchOptions | "help" {
  const f = parseFlags(args, {
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    cases: { type: "string" },
    targets: { type: "string" },
    workers: { type: "string" },
    policies: { type: "string" },
    pin: { type: "boolean" },
    backend: { type: "string" },
    out: { type: "string" },
    replay: { type: "boolean" },
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
  const targets = listFlag(p, "targets", f.targets, TARGET_NAMES, DEFAULT_TARGETS);
  const workers = workersFlag(p, f.workers);
  const options: BenchOptions = {
    durationS: Math.round(duration / 1000),
    warmupS: warmup === 0 ? 0 : Math.max(1, Math.round(warmup / 1000)),
    rounds: p.integer("rounds", String(f.rounds ?? "3"), 1, 100),
    cases: listFlag(p, "cases", f.cases, CASE_NAMES, DEFAULT_CASES),
    targets,
    workers,
    policies: policiesFlag(p, f.policies, targets, workers),
    pin: f.pin === true,
    backend: p.choice("backend", String(f.backend ?? "auto"), ["auto", "nginx", "deno"]),
    out: String(f.out ?? "bench-results"),
    replay: f.replay === true,
  };
  if (options.cases.length === 0) p.add("cases", "names no case");
  if (options.targets.length === 0) p.add("targets", "names no target");
  const withWorkers = options.targets.filter((t) => WORKER_TARGETS.includes(t));
  if (f.workers !== undefined && withWorkers.length === 0 && options.targets.length > 0) {
    p.add("workers", `applies to ${WORKER_TARGETS.join(" and ")}, and --targets has neither`);
  }
  p.throwIfAny();
  return options;
}
