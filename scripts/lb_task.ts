/**
 * The flags `deno task lb` runs main.ts with, read from deno.json: the one
 * place they are written. The benchmark starts the lb with all of them,
 * so it measures the lb as people start it; `deno task compile` bakes in
 * the runtime ones (the permissions it grants are its own, narrower).
 *
 * @module
 */

/** The `deno run` flags of `deno task lb`: what stands between `run` and `main.ts`. */
export function lbRunFlags(root: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  const words = String(config.tasks?.lb ?? "").split(/\s+/);
  const run = words.indexOf("run");
  const main = words.indexOf("main.ts");
  if (words[0] !== "deno" || run !== 1 || main < run) {
    throw new Error(`deno.json's lb task is not "deno run <flags> main.ts": ${config.tasks?.lb}`);
  }
  return words.slice(run + 1, main);
}

/** Those of {@link lbRunFlags} that are not permissions (`--allow-*`). */
export function lbRuntimeFlags(root: string): string[] {
  return lbRunFlags(root).filter((f) => !f.startsWith("--allow-"));
}
