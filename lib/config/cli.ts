/**
 * Shared command-line plumbing for both programs: `node:util` `parseArgs`
 * (JSR's `@std/cli` is unreachable here), typed usage errors, and the exit
 * convention (status 2, one line per problem naming the flag).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { readChoice, readDuration, readInteger, readPort } from "./kinds.ts";

/** One problem with the command line, naming the flag and the bad value. */
export class UsageError extends Error {
  /** `problems`: one line each, naming the flag or file location and the value. */
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "UsageError";
  }
}

/** Exit status for a bad command line (the convention of Go's flag package and getopt tools). */
export const USAGE_EXIT_CODE = 2;

/** `parseArgs` option declarations. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses flags strictly. Unknown flags, missing values and positional
 * arguments become a {@link UsageError} instead of an exception from deep
 * inside `parseArgs`.
 */
export function parseFlags(
  args: readonly string[],
  options: Options,
): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError([`unexpected argument "${positionals[0]}" (flags start with --)`]);
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError([describeParseError(err)]);
  }
}

/** A `node:util` `parseArgs` error as one problem line naming the flag. */
export function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // node:util messages are long and mention "parseArgs"; keep the flag name.
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `${unknown[1]}: unknown flag (see --help)`;
  // "argument is ambiguous": the next word looked like a flag (`--port --x`, `--port -1`).
  const missing = /Option '([^']+?)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
  if (missing) return `${missing[1].replace(/^-\w, /, "")}: needs a value`;
  const boolWithValue = /Option '([^']+)' does not take an argument/.exec(message);
  if (boolWithValue) return `${boolWithValue[1].replace(/^-\w, /, "")}: takes no value`;
  return message;
}

/**
 * Collects problems while decoding flag values, so a user sees every mistake
 * at once instead of fixing them one run at a time. Each names where the
 * value came from: `--flag`, or a config-file location.
 */
export class Problems {
  /** The problems so far, in the order found, each once. */
  readonly list: string[] = [];

  /** A problem with the flag `flag` (or the environment variable standing for it). */
  add(flag: string, message: string): void {
    this.at(`--${flag}`, message);
  }

  /**
   * A problem at `where` (`--port`, `--config: lb.yaml: pools.api.retries`).
   * Said once: an inherited value shared by several pools is one mistake.
   */
  at(where: string, message: string): void {
    const line = `${where}: ${message}`;
    if (!this.list.includes(line)) this.list.push(line);
  }

  /** A TCP port, 0 (any free port) to 65535. */
  port(flag: string, raw: string): number {
    return readPort(raw, (m) => this.add(flag, m));
  }

  /** A duration such as `500ms`, `5s`, `1m`. */
  duration(flag: string, raw: string): number {
    return readDuration(raw, (m) => this.add(flag, m));
  }

  /** A whole number within [min, max]. */
  integer(flag: string, raw: string, min: number, max: number): number {
    return readInteger(raw, min, max, (m) => this.add(flag, m));
  }

  /** One of a fixed set of words. */
  choice<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
    return readChoice(raw, allowed, (m) => this.add(flag, m));
  }

  /** Throws a {@link UsageError} if anything was wrong. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new UsageError(this.list);
  }
}

/** Picks the flag value, else the environment variable, else the default. */
export function pick(
  flag: string | boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
  envName: string | undefined,
  fallback: string,
): string {
  if (typeof flag === "string") return flag;
  if (envName !== undefined) {
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  }
  return fallback;
}

/**
 * Runs a program's `main` and turns a {@link UsageError} into the exit
 * convention: each problem on its own stderr line, then status 2.
 */
export async function runCli(program: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof UsageError) {
      for (const p of err.problems) console.error(`${program}: ${p}`);
      Deno.exit(USAGE_EXIT_CODE);
    }
    throw err;
  }
}
