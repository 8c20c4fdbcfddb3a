/**
 * CPU pinning for `deno task bench --pin`: the load side (wrk, big_client,
 * h2load, the backends and the benchmark process itself) runs on one set of
 * CPUs and the proxy under test on the others, so the proxy's figures are
 * what its own cores can do rather than what is left over after wrk and the
 * backends. On a 2-CPU machine that is the load on CPU 0 and the proxy on
 * CPU 1: one core's worth of proxy, whatever its worker count.
 *
 * Pinning uses `taskset -c LIST command…` (util-linux): the affinity mask is
 * set before `exec`, and every thread and child process the command creates
 * later inherits it, so NGINX's forked workers and the lb's worker threads
 * all land on the proxy's CPUs without either program knowing.
 *
 * Everything here but {@link preparePinning} is pure.
 *
 * @module
 */

import { findExecutable, run } from "./processes.ts";

/** Which CPUs each side of a pinned benchmark runs on. */
export interface PinPlan {
  /** Absolute path of `taskset`. */
  readonly taskset: string;
  /** wrk, big_client, h2load, the backends and the benchmark process. */
  readonly load: readonly number[];
  /** The proxy under test, with all its threads and child processes. */
  readonly proxy: readonly number[];
}

/** The side of a pinned benchmark a command belongs to. */
export type PinRole = "load" | "proxy";

/**
 * Parses a kernel CPU list (`0-3,6,8-9`, as in `Cpus_allowed_list`) into
 * ascending CPU numbers; throws, quoting it, on anything else.
 */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: "${text}" (expected e.g. 0-3,6)`);
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (to < from) throw new Error(`not a CPU list: "${text}" (range ${part} runs backwards)`);
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** `0,1,2` for taskset (which accepts commas and ranges alike). */
export function cpuListText(cpus: readonly number[]): string {
  return cpus.join(",");
}

/**
 * The CPUs a process may run on, from the `Cpus_allowed_list` line of its
 * `/proc/<pid>/status` text. This, not the machine's CPU count, is what
 * `nproc` reports and what the lb's `--workers auto` counts.
 */
export function allowedCpus(status: string): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  if (!m) throw new Error("no Cpus_allowed_list line in /proc/self/status");
  return parseCpuList(m[1]);
}

/**
 * Splits `cpus` between the load and the proxy: the proxy gets the upper
 * half (rounded down, at least one), the load the rest, since wrk plus three
 * backends need at least as much as one proxy. Returns why not instead when
 * `taskset` is missing or there are fewer than two CPUs to split.
 */
export function planPinning(
  cpus: readonly number[],
  taskset: string | undefined,
): PinPlan | string {
  if (!taskset) return "taskset is not installed (apt-get install util-linux)";
  if (cpus.length < 2) {
    return `this process may use ${cpus.length} CPU(s); pinning needs 2 ` +
      "(one for wrk and the backends, one for the proxy)";
  }
  const proxyCount = Math.max(1, Math.floor(cpus.length / 2));
  const split = cpus.length - proxyCount;
  return { taskset, load: cpus.slice(0, split), proxy: cpus.slice(split) };
}

/**
 * `argv` run on the CPUs of `role` (`taskset -c LIST argv…`); `argv`
 * unchanged without a plan. With an empty `argv` this is the prefix alone.
 */
export function pinned(
  plan: PinPlan | undefined,
  role: PinRole,
  argv: readonly string[],
): string[] {
  if (!plan) return [...argv];
  return [plan.taskset, "-c", cpuListText(plan[role]), ...argv];
}

/**
 * `taskset -a -p -c LIST PID`: moves the running process `pid` and all of
 * its threads onto the CPUs of `role`. The benchmark pins itself this way so
 * its RSS sampling and bookkeeping stay off the proxy's CPUs.
 */
export function pinProcessArgv(plan: PinPlan, role: PinRole, pid: number): string[] {
  return [plan.taskset, "-a", "-p", "-c", cpuListText(plan[role]), String(pid)];
}

/** One line for the report: who runs where. */
export function describePin(plan: PinPlan): string {
  const cpus = (xs: readonly number[]) => `CPU${xs.length > 1 ? "s" : ""} ${cpuListText(xs)}`;
  return `pinned with taskset: the proxy on ${cpus(plan.proxy)}; ` +
    `wrk, the backends and the benchmark on ${cpus(plan.load)}`;
}

/**
 * Finds taskset, reads the CPUs this process may use, plans the split and
 * checks that taskset may actually set affinity here (a container can
 * forbid it). Returns the plan, or why pinning is not possible.
 */
export async function preparePinning(): Promise<PinPlan | string> {
  let cpus: number[];
  try {
    cpus = allowedCpus(await Deno.readTextFile("/proc/self/status"));
  } catch (err) {
    return `cannot tell which CPUs may be used: ${err instanceof Error ? err.message : err}`;
  }
  const plan = planPinning(cpus, findExecutable("taskset"));
  if (typeof plan === "string") return plan;
  for (const role of ["load", "proxy"] as const) {
    const probe = await run(pinned(plan, role, ["true"]), AbortSignal.timeout(10_000));
    if (probe.code !== 0) {
      return `taskset -c ${cpuListText(plan[role])} fails here (exit ${probe.code}): ` +
        probe.stderr.trim();
    }
  }
  return plan;
}
