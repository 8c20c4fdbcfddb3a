/**
 * The config file (`--config lb.yaml`): JSON or YAML by extension, checked
 * against the generated schema (`schema.ts`), and turned into layers of
 * flag-like text: the top level (between environment variables and
 * defaults) and, when there are `pools`, one layer per pool. Routes are
 * kept as checked objects; `routes.ts` gives them meaning.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { normalizeOrigin } from "./backends.ts";
import { UsageError } from "./cli.ts";
import { validate } from "./json_schema.ts";
import { fileOptions, type OptionName } from "./options.ts";
import { type PolicyFile, readPolicyFiles } from "./policies/htpasswd.ts";
import { generateSchema } from "./schema.ts";

/** Option values from one level of the file, as the flag would take them. */
export interface FileLayer {
  /** Option name -> value as command-line text (`"5s"`, `"3"`), or a switch's boolean. */
  readonly values: Readonly<Record<string, string | boolean>>;
  /** Per-backend metadata of this level's `backends`, by origin, shown in `/status`. */
  readonly metadata: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** One entry of the file's `pools`. */
export interface FilePool extends FileLayer {
  /** The pool's name (its key under `pools`). */
  readonly name: string;
}

/** One entry of the file's `routes`, as the schema admits it. */
export interface FileRoute {
  /** The route's name; `route-N` when absent. */
  readonly name?: string;
  /** Test -> value or list; `headers` and `query` are objects of name -> value or list. */
  readonly match: Readonly<Record<string, string | string[] | Record<string, string | string[]>>>;
  /** The pool that serves it (or `split`). */
  readonly pool?: string;
  /** Pool -> weight (or `pool`). */
  readonly split?: Readonly<Record<string, number>>;
  /** A pool that gets a copy of each request. */
  readonly mirror?: string;
  /** A path prefix removed before the request goes upstream. */
  readonly "strip-prefix"?: string;
  /** What replaces `strip-prefix`. */
  readonly "replace-prefix"?: string;
  /** The route's own policies (`policies/mod.ts`). */
  readonly policies?: Readonly<Record<string, unknown>>;
}

/** A checked config file. */
export interface ConfigFile extends FileLayer {
  /** The path as given, for messages. */
  readonly path: string;
  /** The `pools`, in file order; absent when the file has none (one pool, `default`). */
  readonly pools?: readonly FilePool[];
  /** The `routes`, in file order; absent when the file has none. */
  readonly routes?: readonly FileRoute[];
  /** The top level's `policies`: every route's defaults. */
  readonly policies?: Readonly<Record<string, unknown>>;
  /** The files those policies name (htpasswd), read by {@link loadConfigFile}; absent from {@link parseConfigFile}. */
  readonly files?: ReadonlyMap<string, PolicyFile>;
}

type BackendEntry = string | { url: string; weight?: number; metadata?: Record<string, string> };
type Json = Record<string, unknown>;

/** Extensions read, and how. */
const FORMATS: Record<string, (text: string) => unknown> = {
  ".json": (text) => JSON.parse(text),
  // YAML 1.2 (so `on` and `no` stay strings); `<<` merges let pools share a block.
  ".yaml": (text) => parseYaml(text, { merge: true }),
  ".yml": (text) => parseYaml(text, { merge: true }),
};

/**
 * Environment variables the YAML parser reads (for its own debug output):
 * a binary given `--allow-env` for `lb`'s variables must allow these too.
 */
export const YAML_ENV_VARS = ["LOG_TOKENS", "LOG_STREAM"] as const;

/** Parses and checks file contents. Throws a UsageError listing every problem. */
export function parseConfigFile(path: string, text: string): ConfigFile {
  const ext = /\.[^./\\]+$/.exec(path.toLowerCase())?.[0] ?? "";
  const read = FORMATS[ext];
  if (!read) {
    throw new UsageError([
      `--config: ${path}: can't tell its format (expected .json, .yaml or .yml)`,
    ]);
  }
  let data: unknown;
  try {
    data = read(text);
  } catch (err) {
    const kind = ext === ".json" ? "JSON" : "YAML";
    const first = ((err as Error).message ?? String(err)).split("\n")[0];
    throw new UsageError([`--config: ${path} is not valid ${kind} (${first})`]);
  }
  const problems = validate(generateSchema(), data);
  if (problems.length > 0) {
    throw new UsageError(problems.map((p) => `--config: ${path}${locate(p)}`));
  }
  const json = data as Json;
  const pools = json.pools as Record<string, Json> | undefined;
  return {
    path,
    ...layer(json, [...fileOptions("global"), ...fileOptions("pool")]),
    pools: pools &&
      Object.entries(pools).map(([name, values]) => ({
        name,
        ...layer(values, fileOptions("pool")),
      })),
    routes: json.routes as FileRoute[] | undefined,
    policies: json.policies as Record<string, unknown> | undefined,
  };
}

/** A validator path as messages write it: `$.pools.api: ...` -> `: pools.api: ...`, `$: ...` -> `: ...`. */
function locate(problem: string): string {
  return problem.startsWith("$.") ? `: ${problem.slice(2)}` : problem.slice(1);
}

/** Reads and checks a config file. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new UsageError([`--config: can't read ${path} (${(err as Error).message})`]);
  }
  const file = parseConfigFile(path, text);
  // Read with the config, so a reload re-reads them and the parser stays pure.
  return { ...file, files: await readPolicyFiles(file) };
}

/** The options `names` found in `json` as flag text, and the metadata of its backends. */
function layer(json: Json, names: readonly OptionName[]): FileLayer {
  const values: Record<string, string | boolean> = {};
  const metadata: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const value = json[name];
    if (value === undefined) continue;
    if (name === "backends" && Array.isArray(value)) {
      values.backends = (value as BackendEntry[]).map((entry) => {
        if (typeof entry === "string") return entry;
        if (entry.metadata) metadata[normalizeOrigin(entry.url)] = entry.metadata;
        return entry.weight === undefined ? entry.url : `${entry.url}=${entry.weight}`;
      }).join(",");
    } else if (Array.isArray(value)) {
      values[name] = value.join(",");
    } else {
      values[name] = typeof value === "boolean" ? value : String(value);
    }
  }
  return { values, metadata };
}
