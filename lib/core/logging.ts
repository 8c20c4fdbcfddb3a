/**
 * Logging for both programs, on LogTape (`@std/log` was removed from std and
 * JSR is unreachable here). Text lines for people by default, JSON lines for
 * log pipelines with `--log-format json`.
 *
 * @module
 */

import {
  configure,
  dispose,
  getLogger,
  getStreamSink,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogLevel,
} from "@logtape/logtape";

/** Log levels accepted by `--log-level`, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** A level accepted by `--log-level`. */
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** Formats accepted by `--log-format`. */
export const LOG_FORMATS = ["text", "json"] as const;
/** A format accepted by `--log-format`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options for {@link setupLogging}. */
export interface LoggingOptions {
  /** Root category, e.g. `"lb"` or `"backend"`. */
  readonly category: string;
  /** Lowest level written. */
  readonly level: LogLevelName;
  /** `text` for people, `json` for machines. */
  readonly format: LogFormat;
  /** Whether `<category>.access` records are written (they are `info`). */
  readonly accessLog?: boolean;
  /** Where lines go; stdout by default. */
  readonly stream?: WritableStream<Uint8Array>;
}

/**
 * Configures LogTape once for the process. Writes are non-blocking so a slow
 * terminal or pipe never stalls the request path; call {@link closeLogging}
 * before exiting so buffered lines are flushed.
 */
export async function setupLogging(options: LoggingOptions): Promise<void> {
  const formatter = options.format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-tz", value: "bare", category: "." });
  await configure({
    reset: true,
    sinks: {
      out: getStreamSink(options.stream ?? Deno.stdout.writable, {
        formatter,
        nonBlocking: { bufferSize: 1000, flushInterval: 50 },
      }),
    },
    loggers: [
      { category: [options.category], lowestLevel: options.level, sinks: ["out"] },
      {
        category: [options.category, "access"],
        lowestLevel: options.accessLog ? "info" : "fatal",
      },
      // LogTape reports its own problems under this category.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** Flushes and closes the log sinks. */
export async function closeLogging(): Promise<void> {
  await dispose();
}

/** The logger for a category below the program's root, e.g. `log("lb", "health")`. */
export function log(...category: string[]): Logger {
  return getLogger(category);
}

export type { Logger, LogLevel };
