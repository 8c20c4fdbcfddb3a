/**
 * The layer rule of `lib/`: each directory may import only from itself and
 * from directories below it in {@link LAYERS}, and no set of modules may
 * import each other in a cycle (type-only imports count: a cycle through
 * types is still a cycle in the design). `deno task check` runs it, and
 * `tests/layers_test.ts` fails on a violation.
 *
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";

/** `lib/` directories from the bottom up; a module imports only from its own row or rows above it here. */
export const LAYERS = [
  "core",
  "http1",
  "config",
  "resilience",
  "pool",
  "balancing",
  "metrics",
  "transport",
  "health",
  "discovery",
  "routing",
  "policy",
  "proxy",
  "front",
  "admin",
  "replay",
  "server",
  "backend",
] as const;

/** One import that breaks the rule, or a cycle. */
export interface LayerProblem {
  readonly message: string;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.[^"']+)["']|(?:^|\n)\s*import\s*["'](\.[^"']+)["']/g;

/** The relative imports of one module's source, as paths relative to `lib/`. */
export function importsOf(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    out.push(normalize(join(dirname(file), spec)));
  }
  return out;
}

/** The layer a `lib/`-relative path is in, or -1 for a file outside every layer. */
function layerOf(path: string): number {
  return (LAYERS as readonly string[]).indexOf(path.split("/")[0]);
}

/**
 * Checks a module graph (`lib/`-relative path → its imports): the layer
 * order, and cycles (each reported once, by its members). Pure.
 */
export function checkLayers(graph: ReadonlyMap<string, readonly string[]>): LayerProblem[] {
  const problems: LayerProblem[] = [];
  for (const [from, imports] of graph) {
    const own = layerOf(from);
    if (own === -1) problems.push({ message: `${from} is in no layer (see LAYERS)` });
    for (const to of imports) {
      if (to.startsWith("..")) {
        if (!to.startsWith("../schema/")) {
          problems.push({ message: `${from} imports ${to}, outside lib/` });
        }
        continue;
      }
      const theirs = layerOf(to);
      if (theirs > own) {
        problems.push({
          message: `${from} imports ${to}: ${LAYERS[own]} is below ${LAYERS[theirs]}`,
        });
      }
    }
  }
  for (const cycle of cycles(graph)) {
    problems.push({ message: `import cycle among ${cycle.length} modules: ${cycle.join(", ")}` });
  }
  return problems;
}

/** Strongly connected components with more than one module (or a self-import), by Tarjan. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Reads `lib/` (test files excluded) into a module graph. */
export async function readGraph(libDir: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        const rel = relative(libDir, path);
        graph.set(rel, importsOf(rel, await Deno.readTextFile(path)));
      }
    }
  };
  await walk(libDir);
  return graph;
}

if (import.meta.main) {
  const problems = checkLayers(await readGraph(new URL("../lib", import.meta.url).pathname));
  for (const p of problems) console.error(p.message);
  if (problems.length > 0) Deno.exit(1);
  console.log("lib/: layers in order, no import cycle");
}
