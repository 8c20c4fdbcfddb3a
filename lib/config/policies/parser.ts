/**
 * What each policy's config module provides: the schema of its value in a
 * `policies` block, and a parser that gives the checked value meaning.
 *
 * @module
 */

import type { Problems } from "../cli.ts";
import type { Schema } from "../json_schema.ts";
import type { PolicyFile } from "./htpasswd.ts";

/** Where a policy value is being read. */
export interface PolicyWhere {
  /** For messages: `--config: lb.yaml: routes[0].policies.rate-limit`. */
  readonly at: string;
  /** The route the value is read for (every route reads the defaults for itself). */
  readonly route: string;
  /** The config file's path, for files a policy names (relative to the working directory). */
  readonly file: string;
  /** The files policies name (htpasswd), read when the config file was loaded, by name as written. */
  readonly files?: ReadonlyMap<string, PolicyFile>;
}

/** One policy's config: schema and meaning. */
export interface PolicyParser<T> {
  /** The schema of the value (policies.ts adds the `false` form). */
  readonly schema: Schema;
  /** The value's meaning, or undefined after reporting problems to `p`. Pure. */
  parse(p: Problems, value: unknown, where: PolicyWhere): T | undefined;
  /** What `/status` shows of it: JSON-safe, and no secrets (no hashes, no keys). */
  describe(config: T): Record<string, unknown>;
}

/** A list of strings, or one. */
export const STRING_OR_LIST: Schema = {
  oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
};

/** A string or list as a list. */
export function asList(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
}
