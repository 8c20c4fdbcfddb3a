/**
 * Where an option's value comes from. For the process and for a config
 * without pools: flag > environment variable > config file > default. For a
 * pool named in the file's `pools`: the pool's own key first, then the same
 * layers (the file's top level holds defaults every pool inherits). An
 * empty environment variable counts as unset, as shells make unsetting
 * awkward; an empty flag is a value (`--health-path ""` means TCP checks).
 *
 * {@link OptionReader} reads each option once, through its kind, reporting
 * a bad value where it came from: `--retries` for a flag, an environment
 * variable or a default, `--config: lb.yaml: retries` or
 * `--config: lb.yaml: pools.api.retries` for the file.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import type { ConfigFile, FilePool } from "./file.ts";
import {
  fileOptions,
  type OptionName,
  optionSpec,
  type OptionValue,
  type Scope,
} from "./options.ts";

/** The sources of values, apart from the defaults in the option table. */
export interface Layers {
  /** Parsed command-line flags (strings, `true` for switches). */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  /** Environment variables (only those the table names are read). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config file, when there is one. */
  readonly file?: ConfigFile;
}

/** Which layer a value came from. */
export type Source = "pool" | "flag" | "env" | "file" | "default";

/** A value found in a layer: its text, and the location problems with it are reported at. */
export interface Found {
  /** The value as text (a file's switch as `"true"`/`"false"`). */
  readonly raw: string;
  /** `--name`, or the file location. */
  readonly where: string;
  /** The layer. */
  readonly from: Source;
}

/** The location of a file key in messages: `--config: lb.yaml: pools.api.retries`. */
export function fileWhere(path: string, key: string): string {
  return `--config: ${path}: ${key}`;
}

/**
 * The highest-precedence value of `name` for `pool` (the single pool or the
 * process when absent), or undefined when the default applies. Pure.
 */
export function lookup(name: OptionName, layers: Layers, pool?: FilePool): Found | undefined {
  const spec = optionSpec(name);
  const usable = (v: string | boolean | undefined): v is string | boolean =>
    v !== undefined && !(spec.emptyIsUnset && v === "");
  const path = layers.file?.path ?? "";
  const own = pool?.values[name];
  if (usable(own)) {
    return {
      raw: String(own),
      where: fileWhere(path, `pools.${pool!.name}.${name}`),
      from: "pool",
    };
  }
  const flag = layers.flags[name];
  if (usable(flag)) return { raw: String(flag), where: `--${name}`, from: "flag" };
  const env = spec.env === undefined ? undefined : layers.env[spec.env];
  if (env !== undefined && env !== "") return { raw: env, where: `--${name}`, from: "env" };
  const top = layers.file?.values[name];
  if (usable(top)) return { raw: String(top), where: fileWhere(path, name), from: "file" };
  return undefined;
}

interface Entry extends Found {
  readonly value: unknown;
}

/**
 * Reads options for the process or for one pool: each is looked up, parsed
 * by its kind and remembered, so a derived default sees the same value the
 * pool uses and a bad value is reported once.
 */
export class OptionReader {
  readonly #p: Problems;
  readonly #layers: Layers;
  readonly #pool: FilePool | undefined;
  readonly #read = new Map<OptionName, Entry>();

  /** `pool`: a pool named in the file's `pools`; absent for the process or the single pool. */
  constructor(p: Problems, layers: Layers, pool?: FilePool) {
    this.#p = p;
    this.#layers = layers;
    this.#pool = pool;
  }

  /** The parsed value of `name`. */
  get<K extends OptionName>(name: K): OptionValue<K> {
    return this.#entry(name).value as OptionValue<K>;
  }

  /** Where the value of `name` came from, as messages name it. */
  where(name: OptionName): string {
    return this.#entry(name).where;
  }

  /** Which layer the value of `name` came from. */
  from(name: OptionName): Source {
    return this.#entry(name).from;
  }

  /** The text the value of `name` was read from. */
  raw(name: OptionName): string {
    return this.#entry(name).raw;
  }

  /**
   * The canonical text of every file option of `scope` (see
   * `LbConfig.settings`); secrets only say whether they are set.
   */
  settings(scope: Scope): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of fileOptions(scope)) {
      const spec = optionSpec(name);
      const entry = this.#entry(name);
      if (spec.secret) out[name] = entry.raw === "" ? "" : "(set)";
      else out[name] = spec.kind.format ? spec.kind.format(entry.value) : entry.raw.trim();
    }
    return out;
  }

  #entry(name: OptionName): Entry {
    const cached = this.#read.get(name);
    if (cached) return cached;
    const spec = optionSpec(name);
    const found = lookup(name, this.#layers, this.#pool);
    let entry: Entry;
    if (found) {
      entry = { ...found, value: spec.kind.parse(found.raw, (m) => this.#p.at(found.where, m)) };
    } else if (typeof spec.default === "string") {
      const where = `--${name}`;
      const value = spec.kind.parse(spec.default, (m) => this.#p.at(where, m));
      entry = { raw: spec.default, where, from: "default", value };
    } else {
      const raw = spec.default.compute((n) => this.get(n as OptionName), this.#pool !== undefined);
      // Derived from values already read: a problem there was reported once, at its source.
      const value = spec.kind.parse(raw, () => {});
      entry = { raw, where: `--${name}`, from: "default", value };
    }
    this.#read.set(name, entry);
    return entry;
  }
}
