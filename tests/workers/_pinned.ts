/**
 * Runs main.ts under `taskset -c CPUS` with the rest of the arguments, so a
 * test can start lb with fewer CPUs than the machine has (what
 * `--workers auto` must count). Usage: `_pinned.ts CPUS ...lb flags`. Its
 * output is lb's; SIGTERM and SIGINT are passed on, and it exits with lb's
 * code.
 *
 * @module
 */

if (import.meta.main) {
  const [cpus, ...args] = Deno.args;
  const child = new Deno.Command("taskset", {
    args: ["-c", cpus, Deno.execPath(), "run", "--allow-all", "main.ts", ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => child.kill(sig));
  }
  Deno.exit((await child.status).code);
}
