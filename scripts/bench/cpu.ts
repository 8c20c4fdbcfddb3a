/**
 * How much CPU the proxy used during a run, so its throughput can be read
 * per core it actually burned: with `--pin` the proxy has one core, and
 * whether that core was saturated (req/s is then the proxy's limit) or
 * idle part of the time (the load side was the limit) changes what
 * "lb / nginx" means. The figure is the average number of CPUs busy in the
 * proxy's process tree over the run: user plus system time of every thread
 * (`/proc/<pid>/stat` counts the whole thread group) over wall time.
 *
 * @module
 */

import { formatRatio, type Summary } from "./report.ts";

/**
 * USER_HZ, the unit of `utime`/`stime` in `/proc/<pid>/stat`: fixed at 100
 * by the kernel's ABI on every architecture Deno runs on (`getconf CLK_TCK`).
 */
export const CLOCK_TICKS_PER_S = 100;

/**
 * `utime + stime` in clock ticks from the text of `/proc/<pid>/stat`. The
 * command name (field 2) may hold spaces and parentheses, so fields are
 * counted from the last `)`: state is field 3, utime 14, stime 15.
 */
export function parseStatTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: "${stat.slice(0, 80)}"`);
  }
  return utime + stime;
}

/** CPU seconds used so far by `pids`; processes that are gone count 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      ticks += parseStatTicks(Deno.readTextFileSync(`/proc/${pid}/stat`));
    } catch { /* gone */ }
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/**
 * Measures the average CPUs busy in a process tree between its creation
 * and {@link CpuMeter.stop}; the tree is read at both ends (`pids` is
 * called twice), so workers forked before the run count whole.
 */
export class CpuMeter {
  readonly #startCpuS: number;
  readonly #startMs = performance.now();

  constructor(readonly pids: () => readonly number[]) {
    this.#startCpuS = cpuSeconds(pids());
  }

  /** CPU seconds used per wall second since construction (1.0: one core busy throughout). */
  stop(): number {
    const wallS = (performance.now() - this.#startMs) / 1000;
    return wallS > 0 ? (cpuSeconds(this.pids()) - this.#startCpuS) / wallS : NaN;
  }
}

/** req/s per CPU the proxy used, or undefined without a CPU figure. */
export function requestsPerCpu(r: Summary): number | undefined {
  return r.proxyCpus === undefined || !(r.proxyCpus > 0)
    ? undefined
    : r.requestsPerSec / r.proxyCpus;
}

/**
 * One line per target with a CPU figure: req/s, CPUs used, req/s per CPU,
 * and that over NGINX's with the same worker count (`lb` over `nginx`,
 * `lb-w2` over `nginx-w2`) where both ran.
 */
export function cpuLines(caseName: string, rows: readonly Summary[]): string[] {
  const perCpu = new Map(rows.map((r) => [r.target, requestsPerCpu(r)]));
  return rows.flatMap((r) => {
    const mine = perCpu.get(r.target);
    if (mine === undefined) return [];
    const nginxName = r.target.replace(/^lb(?=$|-w\d+$)/, "nginx");
    const nginx = nginxName !== r.target ? perCpu.get(nginxName) : undefined;
    const vs = nginx === undefined ? "" : `, ${formatRatio(mine / nginx)} ${nginxName}'s`;
    return [
      `- ${caseName}: ${r.target} ${Math.round(r.requestsPerSec).toLocaleString("en-US")} req/s ` +
      `on ${r.proxyCpus!.toFixed(2)} CPUs: ${Math.round(mine).toLocaleString("en-US")} req/s ` +
      `per CPU${vs}`,
    ];
  });
}
