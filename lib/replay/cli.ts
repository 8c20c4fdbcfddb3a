/**
 * `lb replay`: the command line (flags, the config loaded and checked as
 * `lb --config` does, the log opened or stdin) around {@link replayLog}.
 * Bad flags, an unreadable log and a bad config are `UsageError`s, so `lb`
 * exits 2 naming the problem.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { describeParseError, Problems, UsageError } from "../config/cli.ts";
import { loadConfigFile, YAML_ENV_VARS } from "../config/file.ts";
import { parseLbArgs } from "../config/parse.ts";
import type { LbConfig } from "../config/types.ts";
import { readLines } from "./lines.ts";
import { DEFAULT_SEED } from "./random.ts";
import { renderText } from "./report_text.ts";
import { replayLog } from "./run.ts";
import { REPLAY_USAGE } from "./usage.ts";

/** What `lb replay`'s command line asked for. */
export type ReplayCommand =
  | { readonly kind: "help" }
  | {
    readonly kind: "replay";
    /** The new config file. */
    readonly config: string;
    /** How the report is printed. */
    readonly format: "text" | "json";
    /** Seeds the random choices. */
    readonly seed: number;
    /** A path, or `-` for stdin. */
    readonly log: string;
  };

/** Parses the arguments after `replay`. Throws a `UsageError` listing every problem. Pure. */
export function parseReplayArgs(args: readonly string[]): ReplayCommand {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        config: { type: "string" },
        format: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    throw new UsageError([`replay: ${describeParseError(err)}`]);
  }
  if (values.help) return { kind: "help" };
  const p = new Problems();
  const format = values.format === undefined
    ? "text"
    : p.choice("format", values.format as string, ["text", "json"] as const);
  const seed = values.seed === undefined
    ? DEFAULT_SEED
    : p.integer("seed", values.seed as string, 0, 0xffffffff);
  if (values.config === undefined) p.add("config", "needed: the new configuration file");
  if (positionals.length === 0) p.at("LOG", "needed: the access log to replay (- for stdin)");
  else if (positionals.length > 1) p.at("LOG", `one log only, got "${positionals[1]}" too`);
  if (p.list.length > 0) throw new UsageError(p.list.map((line) => `replay: ${line}`));
  return { kind: "replay", config: values.config as string, format, seed, log: positionals[0] };
}

/** The new configuration, checked as `lb --config FILE` checks it, without the environment. */
export async function loadReplayConfig(path: string): Promise<LbConfig> {
  const file = await loadConfigFile(path);
  // A fixed sticky secret: cookies can't be replayed anyway, and it keeps runs equal.
  const command = parseLbArgs(["--config", path], {}, () => "lb-replay", file);
  // Only flags ask for help or the version, and the only flag here is --config.
  if (!("config" in command)) throw new Error(`unexpected ${command.kind} from a config file`);
  return command.config;
}

/** Runs `lb replay` with the arguments after `replay`; `env` is only reported as ignored. */
export async function replayMain(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const command = parseReplayArgs(args);
  if (command.kind === "help") return void console.log(REPLAY_USAGE);
  const config = await loadReplayConfig(command.config);
  const stream = command.log === "-" ? Deno.stdin.readable : await openLog(command.log);
  const ignoredEnv = Object.entries(env)
    .filter(([name, value]) => value && !(YAML_ENV_VARS as readonly string[]).includes(name))
    .map(([name]) => name);
  const report = await replayLog(readLines(stream), config, {
    seed: command.seed,
    configName: command.config,
    logName: command.log === "-" ? "stdin" : command.log,
    ignoredEnv,
  });
  const text = command.format === "json"
    ? `${JSON.stringify(report, null, 2)}\n`
    : renderText(report);
  await writeOut(text);
}

/** Writes all of `text` to stdout; a reader that went away (`| head`) ends it quietly. */
async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let at = 0; at < bytes.length;) at += await Deno.stdout.write(bytes.subarray(at));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}

/**
 * The log as a stream. A directory opens on Linux and fails only at the
 * first read, after the config was loaded: refused here, so it is a usage
 * error (exit 2) like a missing file. Pipes (`<(zcat log.gz)`) are fine.
 */
async function openLog(path: string): Promise<ReadableStream<Uint8Array>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new UsageError([`replay: ${path}: can't read the log (${(err as Error).message})`]);
  }
  if ((await file.stat()).isDirectory) {
    file.close();
    throw new UsageError([`replay: ${path}: is a directory, not a log file`]);
  }
  return file.readable;
}
