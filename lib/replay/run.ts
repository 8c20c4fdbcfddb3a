/**
 * One replay from lines to report: each line read ({@link parseLine}), each
 * request record simulated under the new configuration in log order, and
 * both fates counted. Takes any source of lines, so tests pass arrays and
 * the command passes a streamed file.
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";
import { parseLine } from "./log_record.ts";
import { replayNotes } from "./notes.ts";
import { createSimulator } from "./simulator.ts";
import { type ReplayReport, Tally } from "./tally.ts";
import { loggedFate } from "./types.ts";

/** What a replay is told besides its lines and configuration. */
export interface ReplayOptions {
  /** Seeds every random choice. */
  readonly seed: number;
  /** The config file as the report names it. */
  readonly configName: string;
  /** The log as the report names it. */
  readonly logName: string;
  /** Environment variables that were set but are not read, for the notes. */
  readonly ignoredEnv?: readonly string[];
}

/** Replays `lines` (a JSON access log) against `config`. */
export async function replayLog(
  lines: AsyncIterable<string> | Iterable<string>,
  config: LbConfig,
  options: ReplayOptions,
): Promise<ReplayReport> {
  const simulate = createSimulator(config, options.seed);
  const tally = new Tally();
  let n = 0;
  let records = 0;
  for await (const text of lines) {
    n++;
    tally.line();
    const result = parseLine(text, n);
    if (result.kind === "skip") tally.skip();
    else if (result.kind === "malformed") tally.malformed(n, result.reason);
    else {
      records++;
      tally.add(loggedFate(result.record), simulate(result.record));
    }
  }
  const notes = replayNotes(config, options.seed, options.ignoredEnv);
  if (records === 0 && n > 0) {
    // Most likely another format: say what is expected rather than print empty tables only.
    notes.push(
      "no line was a request record: the log must be --access-log-format json lines " +
        "with the default --access-log-fields (or at least time, client, method, path, host, status, route, pool, backend)",
    );
  }
  return tally.report(
    { config: options.configName, log: options.logName, seed: options.seed },
    {
      routes: config.routes.map((r) => r.name),
      pools: config.pools.map((p) => ({ name: p.name, backends: p.backends.map((b) => b.origin) })),
    },
    notes,
  );
}
