/**
 * The option table: every option `lb` takes, declared once (the entries
 * are in `options_global.ts` and `options_pool.ts`, their shape in
 * `option.ts`). An entry's name is both its flag (`--health-interval`) and
 * its config-file key; the entry says what kind of value it takes, whether
 * it is global or set per pool, its environment variable, its default (the
 * only place defaults live), its help, and whether a reload can change it.
 * The flag parser, the value lookup, `--help`, the JSON schema, the README
 * tables and the restart check are all generated from this table.
 *
 * @module
 */

import type { Option, Scope } from "./option.ts";
import { GLOBAL_OPTIONS } from "./options_global.ts";
import { POOL_OPTIONS } from "./options_pool.ts";

export { GROUPS } from "./option.ts";
export type { Derived, Group, Option, Scope } from "./option.ts";
export { DEFAULT_BACKENDS } from "./options_pool.ts";

/** Every option. Help and docs order is by group (`GROUPS`), then as declared. */
export const OPTIONS: typeof GLOBAL_OPTIONS & typeof POOL_OPTIONS = {
  ...GLOBAL_OPTIONS,
  ...POOL_OPTIONS,
};

/** An option's name: its flag without dashes, and its config-file key. */
export type OptionName = keyof typeof OPTIONS;

/** The parsed value type of option `K`. */
export type OptionValue<K extends OptionName> = (typeof OPTIONS)[K] extends Option<infer T> ? T
  : never;

/** Every option name, in table order. */
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/** The option called `name`, typed loosely (for generators that walk the table). */
export function optionSpec(name: OptionName): Option<unknown> {
  return OPTIONS[name] as Option<unknown>;
}

/** Options that are config-file keys in `scope`, in table order. */
export function fileOptions(scope: Scope): OptionName[] {
  return OPTION_NAMES.filter((n) => OPTIONS[n].scope === scope && !optionSpec(n).cliOnly);
}

/** How the default of `name` reads in help and docs. */
export function shownDefault(name: OptionName): string {
  const spec = optionSpec(name);
  if (typeof spec.default !== "string") return spec.default.shown;
  if (spec.shown !== undefined) return spec.shown;
  if (spec.kind.type === "boolean") return spec.default === "true" ? "on" : "off";
  return spec.default;
}
