/**
 * The access log of one thread: each finished request's record, formatted
 * (`core/access_format.ts`) and queued for a non-blocking writer to stdout
 * or an appended file (`core/log_file.ts`), or, in the `log` format, sent
 * through the lb's own log as before. Made once per thread at start (the
 * access-log options need a restart), it outlives configuration
 * generations; SIGUSR1 reopens its file and shutdown flushes it.
 *
 * With `--workers`, every thread has its own: each appends whole lines to
 * the same file through its own descriptor, and the main thread tells
 * every worker to reopen.
 *
 * @module
 */

import { UsageError } from "../config/cli.ts";
import type { AccessLogOutput } from "../config/types.ts";
import { accessFormatter } from "../core/access_format.ts";
import type { AccessRecord } from "../core/access_record.ts";
import { fileLineWriter, type LineWriter, stdoutLineWriter } from "../core/log_file.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";

/** Where the proxy core sends each finished request's record. */
export interface AccessLogSink {
  /** Called once per request the log wants; must not block or throw. */
  write(record: AccessRecord): void;
}

/** A thread's access log: a sink, with the file's reopen and the flush at shutdown. */
export interface AccessLog extends AccessLogSink {
  /** Reopens the file (after logrotate renamed it); nothing for stdout or the `log` format. */
  reopen(): Promise<void>;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

/** What an {@link AccessLog} is made with. */
export interface AccessLogDeps {
  readonly metrics: LbMetrics;
  /** `lb.access`: the `log` format's lines. */
  readonly accessLogger: Logger;
  /** The lb's own log, for the writer's failures and reopens. */
  readonly log: Logger;
}

/** The message of the `log` format: the same words in text and in JSON (`properties`). */
const LOG_MESSAGE = "{method} {path} {status} {route} {pool} {backend} {durationMs}ms {bytes}B";

/**
 * The access log `output` asks for. Opens the file now, so a path that
 * can't be opened stops the start (a `UsageError`: the lb exits 2) instead
 * of losing every line.
 */
export function createAccessLog(output: AccessLogOutput, deps: AccessLogDeps): AccessLog {
  if (output.format === "log") {
    const logger = deps.accessLogger;
    return {
      write: (record) => logger.info(LOG_MESSAGE, { ...record }),
      reopen: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const format = accessFormatter({
    format: output.format,
    fields: output.fields,
    template: output.template,
  });
  const writer = openWriter(output.file, deps);
  return {
    write: (record) => writer.write(format(record)),
    reopen: () => writer.reopen(),
    close: () => writer.close(),
  };
}

function openWriter(file: string | undefined, deps: AccessLogDeps): LineWriter {
  const events = deps.metrics.accessLogEvents;
  const dropped = events.labels("dropped");
  const errors = events.labels("error");
  const where = file ?? "stdout";
  // One warning per spell of failures, not one per line: a full disk would flood the log.
  let failing = false;
  const options = {
    events: {
      dropped: (n: number) => dropped.inc(n),
      failed: (what: "write" | "reopen", err: unknown) => {
        errors.inc();
        if (what === "reopen") {
          deps.log.warning(
            "access log {file}: reopen failed, still writing the old file: {error}",
            {
              file: where,
              error: message(err),
            },
          );
        } else if (!failing) {
          failing = true;
          deps.log.warning("access log {file}: write failed, lines dropped: {error}", {
            file: where,
            error: message(err),
          });
        }
      },
      wrote: () => {
        if (!failing) return;
        failing = false;
        deps.log.info("access log {file}: writing again", { file: where });
      },
      reopened: () => {
        events.labels("reopen").inc();
        deps.log.info("access log {file}: reopened", { file: where });
      },
    },
  };
  if (file === undefined) return stdoutLineWriter(options);
  try {
    return fileLineWriter(file, options);
  } catch (err) {
    // A path that can't be written is a bad value for this host: exit 2, naming the option.
    throw new UsageError([`--access-log-file: can't open ${file}: ${message(err)}`]);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
