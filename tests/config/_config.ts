/**
 * Helpers for the config tests: parse a command line (and optionally a
 * config file's text) that must be valid, or must fail, and get the config
 * or the problems.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../lib/config/cli.ts";
import { parseConfigFile } from "../../lib/config/file.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import type { LbConfig, PoolConfig } from "../../lib/config/types.ts";

/** The sticky secret the tests' `randomSecret` hands out. */
export const GENERATED = "generated-secret";

/** Arguments, environment and an optional file (path and text). */
export interface Input {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly file?: { readonly path: string; readonly text: string };
}

function parse({ args = [], env = {}, file }: Input) {
  const loaded = file ? parseConfigFile(file.path, file.text) : undefined;
  return parseLbArgs(args, env, () => GENERATED, loaded);
}

/** The config of an input that must be valid. */
export function configOf(input: Input): LbConfig {
  const command = parse(input);
  assert.ok(command.kind === "run", `expected a run command, got ${command.kind}`);
  return command.config;
}

/** The config of a valid command line. */
export function config(args: string[], env: Record<string, string> = {}): LbConfig {
  return configOf({ args, env });
}

/** The single pool of a valid command line (pool `default`). */
export function pool(args: string[], env: Record<string, string> = {}): PoolConfig {
  const { pools } = config(args, env);
  assert.equal(pools.length, 1);
  return pools[0];
}

/** The problems of an input that must be invalid (from the file or from the whole parse). */
export function problemsOf(input: Input): readonly string[] {
  try {
    parse(input);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    return err.problems;
  }
  assert.fail(`expected a UsageError for ${JSON.stringify(input)}`);
}

/** The problems of an invalid command line. */
export function problems(args: string[], env: Record<string, string> = {}): readonly string[] {
  return problemsOf({ args, env });
}

/** The problems of an invalid YAML file called `lb.yaml`. */
export function yamlProblems(text: string, args: string[] = []): readonly string[] {
  return problemsOf({ args, file: { path: "lb.yaml", text } });
}

/** The config of a valid YAML file called `lb.yaml`. */
export function yamlConfig(text: string, args: string[] = [], env = {}): LbConfig {
  return configOf({ args, env, file: { path: "lb.yaml", text } });
}
