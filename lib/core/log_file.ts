/**
 * A line writer for logs that must never hold up the request path: lines
 * are queued in memory and written in batches of whole lines by one
 * asynchronous write at a time, so a slow disk delays only the log. The
 * queue is bounded: while the disk stalls, lines past the bound are
 * dropped and counted rather than kept without limit. A file can be
 * reopened (logrotate renames it, then `kill -USR1`), and closing flushes
 * what is queued, within a deadline.
 *
 * Lines are never split across writes: each write is a batch of whole
 * lines, and a file is opened for appending, so several threads (or
 * processes) writing one file interleave lines, not parts of lines. A
 * batch to stdout is at most `PIPE_BUF` (4096) bytes, the size POSIX
 * keeps whole on a pipe; a file batch at most 64 KiB.
 *
 * @module
 */

/** Where lines go: a file, stdout, or a stand-in in tests. */
export interface LineSink {
  /** Writes some of `p`, resolving with how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** What happened, for metrics and the lb's own log. */
export interface LineWriterEvents {
  /** `lines` were lost: the queue was full, a write failed, or the writer closed. */
  readonly dropped?: (lines: number) => void;
  /** A write or a reopen failed (a failed reopen keeps the old file). */
  readonly failed?: (what: "write" | "reopen", err: unknown) => void;
  /** A write succeeded (after failures, the log may say it recovered). */
  readonly wrote?: () => void;
  /** The file was reopened. */
  readonly reopened?: () => void;
}

/** Options for {@link LineWriter}. */
export interface LineWriterOptions {
  /** Opens the file anew, for {@link LineWriter.reopen}; absent: reopening does nothing (stdout). */
  readonly reopen?: () => Promise<LineSink>;
  /** Most bytes in one write (whole lines, unless one line alone is longer). */
  readonly batchBytes?: number;
  /** Most characters queued; more lines are dropped. 1 MiB by default. */
  readonly maxQueued?: number;
  /** How long a line may wait for others to share its write, ms (50). */
  readonly flushMs?: number;
  readonly events?: LineWriterEvents;
}

/** Most bytes POSIX writes to a pipe in one piece (`PIPE_BUF`). */
export const PIPE_BUF = 4096;
const FILE_BATCH = 64 * 1024;

const encoder = new TextEncoder();

/** Queues lines and writes them to a {@link LineSink}. */
export class LineWriter {
  #sink: LineSink;
  readonly #reopen: (() => Promise<LineSink>) | undefined;
  readonly #events: LineWriterEvents;
  readonly #max: number;
  readonly #flushMs: number;
  readonly #buf: Uint8Array;
  #lines: string[] = [];
  #head = 0;
  #queued = 0;
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reopenWaiters: (() => void)[] = [];
  #closed = false;

  constructor(sink: LineSink, options: LineWriterOptions = {}) {
    this.#sink = sink;
    this.#reopen = options.reopen;
    this.#events = options.events ?? {};
    this.#max = options.maxQueued ?? 1024 * 1024;
    this.#flushMs = options.flushMs ?? 50;
    this.#buf = new Uint8Array(options.batchBytes ?? FILE_BATCH);
  }

  /** Characters queued now. */
  get queued(): number {
    return this.#queued;
  }

  /** Queues `line` (without its newline); drops it when the queue is full or the writer closed. */
  write(line: string): void {
    const size = line.length + 1;
    if (this.#closed || this.#queued + size > this.#max) {
      this.#events.dropped?.(1);
      return;
    }
    this.#lines.push(line);
    this.#queued += size;
    if (this.#running !== undefined) return;
    if (this.#queued >= this.#buf.length) this.#start();
    else if (this.#timer === undefined) this.#later();
  }

  /** Reopens the file once the write in progress ends; lines queued go to the new one. */
  reopen(): Promise<void> {
    if (this.#reopen === undefined || this.#closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#reopenWaiters.push(resolve));
    this.#start();
    return done;
  }

  /** Writes everything queued; resolves when it is written (or dropped after a failure). */
  async flush(): Promise<void> {
    while (this.#running !== undefined || this.#pendingWork()) {
      this.#start();
      await this.#running;
    }
  }

  /**
   * Flushes and closes the sink. Lines still queued after `timeoutMs` (a
   * stalled disk) are dropped, so shutdown is never held up by the log.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const flushed = await Promise.race([this.flush().then(() => true), deadline]);
    clearTimeout(timer);
    if (!flushed) {
      const left = this.#lines.length - this.#head;
      this.#lines = [];
      this.#head = 0;
      this.#queued = 0;
      if (left > 0) this.#events.dropped?.(left);
    }
    for (const resolve of this.#reopenWaiters.splice(0)) resolve();
    try {
      this.#sink.close();
    } catch {
      // Already closed: nothing left to release.
    }
  }

  #pendingWork(): boolean {
    return this.#head < this.#lines.length || this.#reopenWaiters.length > 0;
  }

  #later(): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#start();
    }, this.#flushMs);
    // A log flush alone must not keep the process alive; close() flushes at exit.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #start(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running !== undefined) return;
    this.#running = this.#pump().finally(() => {
      this.#running = undefined;
      // Lines queued after the pump's last look wait for the next batch.
      if (this.#pendingWork() && !this.#closed) this.#later();
    });
  }

  async #pump(): Promise<void> {
    for (;;) {
      if (this.#reopenWaiters.length > 0) await this.#reopenNow();
      if (this.#head === this.#lines.length) break;
      const [bytes, lines] = this.#batch();
      await this.#send(bytes, lines);
    }
    this.#lines = [];
    this.#head = 0;
  }

  /** Takes whole lines from the queue into one buffer: the bytes, and how many lines. */
  #batch(): [Uint8Array, number] {
    const buf = this.#buf;
    const first = this.#lines[this.#head];
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that may not fit goes alone.
    if (first.length * 3 + 1 > buf.length) {
      this.#take(first);
      return [encoder.encode(first + "\n"), 1];
    }
    let n = 0;
    let count = 0;
    while (this.#head < this.#lines.length) {
      const line = this.#lines[this.#head];
      const { read, written } = encoder.encodeInto(line, buf.subarray(n));
      if (read < line.length || n + written >= buf.length) break;
      buf[n + written] = 0x0a;
      n += written + 1;
      count++;
      this.#take(line);
    }
    // A long-lived backlog: let the strings already written go.
    if (this.#head > 4096) {
      this.#lines.splice(0, this.#head);
      this.#head = 0;
    }
    return [buf.subarray(0, n), count];
  }

  #take(line: string): void {
    this.#head++;
    this.#queued -= line.length + 1;
  }

  async #send(bytes: Uint8Array, lines: number): Promise<void> {
    try {
      // A short write (a full disk) is continued: the one case a line could be split.
      let off = 0;
      while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
      this.#events.wrote?.();
    } catch (err) {
      this.#events.failed?.("write", err);
      this.#events.dropped?.(lines);
    }
  }

  async #reopenNow(): Promise<void> {
    const waiters = this.#reopenWaiters.splice(0);
    try {
      const next = await this.#reopen!();
      const old = this.#sink;
      this.#sink = next;
      old.close();
      this.#events.reopened?.();
    } catch (err) {
      this.#events.failed?.("reopen", err);
    }
    for (const resolve of waiters) resolve();
  }
}

/** Opens `path` for appending (created when missing, mode 0640) as a sink. */
export async function openFileSink(path: string): Promise<LineSink> {
  return await Deno.open(path, { append: true, create: true, mode: 0o640 });
}

/** A {@link LineWriter} appending to `path`, opened now (throws when it can't be). */
export function fileLineWriter(
  path: string,
  options: Omit<LineWriterOptions, "reopen" | "batchBytes"> = {},
): LineWriter {
  const file = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
  return new LineWriter(file, { ...options, reopen: () => openFileSink(path) });
}

/** A {@link LineWriter} to stdout, in pipe-sized batches; closing it leaves stdout open. */
export function stdoutLineWriter(
  options: Omit<LineWriterOptions, "reopen" | "batchBytes"> = {},
): LineWriter {
  const sink: LineSink = { write: (p) => Deno.stdout.write(p), close() {} };
  return new LineWriter(sink, { ...options, batchBytes: PIPE_BUF });
}
