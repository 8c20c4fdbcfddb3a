/**
 * The shape of an option-table entry (see `options.ts`): what each option
 * declares once, from which its parser, help, schema and docs are made.
 *
 * @module
 */

import type { Kind } from "./kinds.ts";

/** Where an option applies: the whole process, or each pool (settable per pool in the file). */
export type Scope = "global" | "pool";

/** Help and docs sections, in the order they are shown. */
export const GROUPS = {
  listener: "Listeners, shutdown and logging",
  routing: "Routing",
  pool: "Pools and balancing",
  health: "Health checks",
  resilience: "Retries, ejection and limits",
  discovery: "Service discovery",
  front: "Front door (client connections)",
  operations: "Operations",
} as const;
/** A help section. */
export type Group = keyof typeof GROUPS;

/** A default computed from other options' values. */
export interface Derived {
  /** How the default reads in help and docs, e.g. `min(health-interval, 1s)`. */
  readonly shown: string;
  /**
   * The default as text. `value` gives another option's parsed value (for
   * this pool); `named` is true for a pool named in a file with `pools`.
   */
  compute(value: (name: string) => unknown, named: boolean): string;
}

/** One option. */
export interface Option<T> {
  /** What values it takes, and how they are read, written and described. */
  readonly kind: Kind<T>;
  /** The whole process, or each pool. */
  readonly scope: Scope;
  /** The help and docs section it is listed in. */
  readonly group: Group;
  /** One line for `--help` and the docs; says why, not only what. */
  readonly help: string;
  /** The default, as the flag would take it, or derived from other options. */
  readonly default: string | Derived;
  /** Whether a reload applies a change (false: the running lb keeps the old value until restarted). */
  readonly reload: boolean;
  /** The environment variable between the flag and the file, if any. */
  readonly env?: string;
  /** How the default reads in help and docs when its text says little (`none`, `auto`). */
  readonly shown?: string;
  /** Overrides the kind's help placeholder. */
  readonly placeholder?: string;
  /** A command-line flag only: no config-file key, no setting (`--config`, `--help`...). */
  readonly cliOnly?: boolean;
  /** A one-letter alias (`-h`). */
  readonly short?: string;
  /** Kept out of settings and `--check` output: only whether it is set. */
  readonly secret?: boolean;
  /** An empty value counts as unset, so the next layer (env, file, default) applies. */
  readonly emptyIsUnset?: boolean;
  /** Reloadable, except that setting or clearing it (TLS on or off) needs a restart. */
  readonly toggleNeedsRestart?: boolean;
}

/** Declares an option, inferring its value type from its kind. */
export function option<T>(spec: Option<T>): Option<T> {
  return spec;
}
