/**
 * Config files for the policy suites: written to a temp dir for one test,
 * and `lb --check` run on one to see how it is refused.
 *
 * @module
 */

/**
 * Writes `config` (an object as JSON, or text as it is, to `name`) to a
 * fresh temp dir, calls `fn` with its path, and removes the dir after.
 */
export async function withConfig<T>(
  config: unknown,
  fn: (path: string) => Promise<T>,
  name = "lb.json",
): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/${name}`;
    await Deno.writeTextFile(path, typeof config === "string" ? config : JSON.stringify(config));
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `main.ts --config path --check`: its exit code and what it wrote to stderr. */
export async function checkConfig(path: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--config", path, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}
