/**
 * The JSON config file (`--config lb.json`): read, checked against
 * `schema/lb.schema.json`, and turned into the layer that sits between
 * environment variables and defaults (flags > env > file > defaults).
 *
 * @module
 */

import { UsageError } from "./cli.ts";
import { type Schema, validate } from "./json_schema.ts";
import schema from "../../schema/lb.schema.json" with { type: "json" };

/** A checked config file: each setting as the string its flag would take. */
export interface ConfigFile {
  readonly path: string;
  /** Flag name → value, as a command-line string (`"5s"`, `"3"`, `"true"`). */
  readonly values: Readonly<Record<string, string | boolean>>;
  /** Per-backend metadata by origin, shown in `/status`. */
  readonly metadata: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

type BackendEntry = string | { url: string; weight?: number; metadata?: Record<string, string> };

/** Parses and checks file contents. Throws a UsageError listing every problem. */
export function parseConfigFile(path: string, text: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError([`--config: ${path} is not valid JSON (${(err as Error).message})`]);
  }
  const problems = validate(schema as Schema, json);
  if (problems.length > 0) {
    throw new UsageError(problems.map((p) => `--config: ${path}: ${p.replace(/^\$\.?/, "")}`));
  }
  const values: Record<string, string | boolean> = {};
  const metadata: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === "$schema") continue;
    if (key === "backends" && Array.isArray(value)) {
      values.backends = (value as BackendEntry[]).map((entry) => {
        if (typeof entry === "string") return entry;
        if (entry.metadata) metadata[normalizeOrigin(entry.url)] = entry.metadata;
        return entry.weight === undefined ? entry.url : `${entry.url}=${entry.weight}`;
      }).join(",");
    } else {
      values[key] = typeof value === "boolean" ? value : String(value);
    }
  }
  return { path, values, metadata };
}

/** Reads and checks a config file. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new UsageError([`--config: can't read ${path} (${(err as Error).message})`]);
  }
  return parseConfigFile(path, text);
}

/**
 * The origin a backend URL normalises to (as `--backends` does: scheme kept,
 * default port dropped), for metadata lookup.
 */
function normalizeOrigin(url: string): string {
  try {
    const u = new URL(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url) ? url : `http://${url}`);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}
