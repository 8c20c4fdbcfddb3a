/**
 * Facts about the machine and the programs a benchmark ran with, printed
 * above the tables and stored in the JSON, so numbers are never quoted
 * without their context.
 *
 * @module
 */

import { run } from "./processes.ts";

/** What the numbers were measured on. */
export interface MachineFacts {
  readonly nproc: number;
  readonly cpu: string;
  readonly kernel: string;
  readonly deno: string;
  readonly wrk: string;
  readonly nginx: string;
  readonly haproxy: string;
  /** `git describe`-like: commit and whether the tree had changes. */
  readonly commit: string;
}

async function firstLine(argv: string[], fallback: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(argv);
    // wrk -v exits 1 and nginx -v prints to stderr; take whichever has text.
    const line = (stdout.trim() || stderr.trim()).split("\n")[0].trim();
    return line || fallback;
  } catch {
    return fallback;
  }
}

/** The short commit of `root`, or "unknown" outside a git checkout (e.g. a `git archive` copy). */
async function gitHead(root: string): Promise<string> {
  try {
    const { code, stdout } = await run(["git", "-C", root, "rev-parse", "--short", "HEAD"]);
    return code === 0 && stdout.trim() !== "" ? stdout.trim() : "unknown (not a git checkout)";
  } catch {
    return "unknown (git not installed)";
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    return m?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Collects the facts; a program that is not installed reads "not installed". */
export async function machineFacts(
  tools: { wrk: string; nginx?: string; haproxy?: string },
  root: string,
): Promise<MachineFacts> {
  const missing = "not installed";
  const [nproc, wrk, nginx, haproxy, head, dirty] = await Promise.all([
    firstLine(["nproc"], String(navigator.hardwareConcurrency)),
    firstLine([tools.wrk, "-v"], "unknown"),
    tools.nginx ? firstLine([tools.nginx, "-v"], "unknown") : missing,
    tools.haproxy ? firstLine([tools.haproxy, "-v"], "unknown") : missing,
    gitHead(root),
    run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
      .then((r) => r.code === 0 && r.stdout.trim() !== "", () => false),
  ]);
  return {
    nproc: Number(nproc),
    cpu: cpuModel(),
    kernel: Deno.osRelease(),
    deno: `deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    wrk,
    nginx,
    haproxy,
    commit: dirty ? `${head} + uncommitted changes` : head,
  };
}

/** The facts as Markdown list items. */
export function formatFacts(f: MachineFacts): string {
  return [
    `- CPU: ${f.nproc} × ${f.cpu}; Linux ${f.kernel}`,
    `- ${f.deno}`,
    `- ${f.wrk}`,
    `- ${f.nginx}`,
    `- ${f.haproxy}`,
    `- repository at ${f.commit}`,
  ].join("\n");
}
