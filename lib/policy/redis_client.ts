/**
 * A small Redis client for the rate-limit store: one TCP connection per
 * server, every command pipelined on it (replies come back in order, so
 * the oldest command waiting gets the next reply), a deadline per command,
 * and a new connection made by the next command after the old one was
 * lost: a Redis restart costs the checks in flight, nothing more.
 *
 * Written here rather than taken from npm because the hot path is one
 * script call per request: this client encodes it into a reused buffer
 * and decodes the integer reply without strings, and measured cheaper per
 * check than `ioredis` (figures in the README's rate-limit section).
 *
 * Deadlines cost no timer per command: one timer is armed for the
 * earliest deadline and re-armed from the queue when it fires, so a busy
 * connection sees about one timer per timeout period. A connection whose
 * oldest command has had no reply for `stuckMs` (a Redis that stopped
 * answering but kept the socket) is dropped, so the next command tries a
 * fresh one.
 *
 * @module
 */

import { command, RespError, RespReader, type RespValue, RespWriter } from "./redis_resp.ts";
import type { RespPart } from "./redis_resp.ts";
import { PendingReplies, StoreFailure } from "./redis_pending.ts";

/** Where the server is, and how to log in. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  /** SELECTed after connecting when not 0. */
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

/** Options for {@link RedisClient}. */
export interface RedisClientOptions {
  /** A connection attempt gives up after this (2000 ms); commands waiting on it time out sooner. */
  readonly connectTimeoutMs?: number;
  /** No reply for this long to the oldest command drops the connection (1000 ms). */
  readonly stuckMs?: number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
}

/** One pipelined connection to a Redis server, remade on demand. */
export class RedisClient {
  readonly #target: RedisTarget;
  readonly #connectTimeoutMs: number;
  readonly #stuckMs: number;
  readonly #now: () => number;
  readonly #out = new RespWriter();
  readonly #in = new RespReader();
  readonly #pending = new PendingReplies();
  #conn: Deno.TcpConn | undefined;
  #connecting: Promise<void> | undefined;
  #reading: Promise<void> | undefined;
  #writing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;
  /** Aborts the connection attempt in progress (at close). */
  #abort: AbortController | undefined;

  constructor(target: RedisTarget, options: RedisClientOptions = {}) {
    this.#target = target;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#stuckMs = options.stuckMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** `host:port`, for messages. */
  get address(): string {
    const { host, port } = this.#target;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  /** Whether a connection is up now. */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /**
   * Sends one command (its RESP parts) and resolves with the reply (an
   * error reply is a {@link RespError} value), or rejects with a
   * {@link StoreFailure} once `timeoutMs` has passed or the connection failed.
   */
  call(parts: readonly RespPart[], timeoutMs: number): Promise<RespValue> {
    if (this.#closed) {
      return Promise.reject(new StoreFailure("connection", "the Redis client is closed"));
    }
    if (this.#conn === undefined) this.#connect();
    return this.#enqueue(parts, timeoutMs);
  }

  #enqueue(parts: readonly RespPart[], timeoutMs: number): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      const now = this.#now();
      this.#pending.add({ resolve, reject, deadline: now + timeoutMs, sent: now, settled: false });
      this.#out.write(parts);
      this.#arm(now + timeoutMs);
      this.#flush();
    });
  }

  /** Starts a connection, with AUTH and SELECT queued ahead of every command. */
  #connect(): void {
    if (this.#connecting !== undefined) return;
    this.#out.clear();
    this.#in.clear();
    const { host, port, db, username, password } = this.#target;
    this.#connecting = this.#open(host, port).finally(() => this.#connecting = undefined);
    // Queued first, so they are first on the wire; a refusal drops the connection.
    if (password !== undefined) {
      const auth = username === undefined
        ? command("AUTH", password)
        : command("AUTH", username, password);
      this.#handshake(auth, "AUTH");
    }
    if (db !== 0) this.#handshake(command("SELECT", db), "SELECT");
  }

  #handshake(parts: RespPart[], what: string): void {
    const now = this.#now();
    // Settled inside the read loop, so a refusal drops the connection before
    // the commands behind it can take the replies meant for a logged-in one.
    this.#pending.add({
      resolve: (reply) => {
        if (reply instanceof RespError) {
          this.#drop(
            new StoreFailure("reply", `${what} refused by ${this.address}: ${reply.message}`),
          );
        }
      },
      reject: () => {},
      deadline: now + this.#connectTimeoutMs,
      sent: now,
      settled: false,
    });
    this.#out.write(parts);
    this.#arm(now + this.#connectTimeoutMs);
  }

  async #open(hostname: string, port: number): Promise<void> {
    const abort = this.#abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#connectTimeoutMs);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port, signal: abort.signal });
    } catch (err) {
      const why = this.#closed
        ? "the client closed"
        : abort.signal.aborted
        ? `timed out after ${this.#connectTimeoutMs}ms`
        : message(err);
      this.#fail(new StoreFailure("connection", `connecting to ${this.address}: ${why}`));
      return;
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    this.#reading = this.#read(conn);
    this.#flush();
  }

  async #flush(): Promise<void> {
    const conn = this.#conn;
    if (this.#writing || conn === undefined || this.#out.length === 0) return;
    this.#writing = true;
    try {
      // Commands issued while a write is in flight go together in the next one.
      while (this.#out.length > 0 && this.#conn === conn) {
        const bytes = this.#out.take();
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      }
    } catch (err) {
      if (this.#conn === conn) {
        this.#drop(new StoreFailure("connection", `writing to ${this.address}: ${message(err)}`));
      }
    } finally {
      this.#writing = false;
    }
    // A connection made while the old one's write was failing has its own commands waiting.
    if (this.#conn !== undefined && this.#conn !== conn) this.#flush();
  }

  async #read(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    let why = "closed by the server";
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        this.#in.push(buf.subarray(0, n));
        for (let v = this.#in.next(); v !== undefined; v = this.#in.next()) {
          this.#deliver(v);
          if (this.#conn !== conn) return; // dropped by what was delivered
        }
      }
    } catch (err) {
      why = message(err);
    }
    if (this.#conn === conn) this.#drop(new StoreFailure("connection", `${this.address}: ${why}`));
  }

  /** The next reply goes to the oldest command (one that timed out meanwhile just takes it). */
  #deliver(value: RespValue): void {
    if (!this.#pending.deliver(value)) {
      this.#drop(new StoreFailure("reply", `${this.address} sent a reply nobody asked for`));
    }
  }

  /** Arms the one timer for `at` unless it already fires sooner. */
  #arm(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, at - this.#now()));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    let next = this.#pending.expire(
      now,
      () => new StoreFailure("timeout", `no answer from ${this.address} in time`),
    );
    const oldest = this.#pending.oldestSent;
    if (oldest !== undefined) {
      if (now - oldest >= this.#stuckMs && this.#conn !== undefined) {
        this.#drop(
          new StoreFailure("timeout", `${this.address} sent nothing for ${this.#stuckMs}ms`),
        );
        return;
      }
      next = Math.min(next, oldest + this.#stuckMs);
    }
    if (next !== Infinity) this.#arm(next);
  };

  /** Closes the connection; every command waiting fails with `err`. */
  #drop(err: StoreFailure): void {
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch {
      // Already closed by a failed read or write.
    }
    this.#fail(err);
  }

  /** Every command waiting fails with `err`; nothing is left to write. */
  #fail(err: StoreFailure): void {
    this.#out.clear();
    this.#pending.failAll(err);
  }

  /** Closes the connection and fails whatever is waiting; later calls fail at once. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
    await this.#connecting;
    this.#drop(new StoreFailure("connection", "the Redis client is closed"));
    await this.#reading;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
