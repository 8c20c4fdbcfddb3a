/**
 * Idle upstream connections, per backend: reused last-in first-out (the
 * warmest socket first, so surplus ones age out), capped in number, and
 * closed after the idle timeout by one sweep timer for the whole pool.
 *
 * @module
 */

import type { Connection } from "../../http1/connection.ts";

/** Options for {@link ConnectionPool}. */
export interface PoolOptions {
  /** Most idle connections kept per backend. */
  readonly maxIdlePerKey: number;
  /** Idle connections older than this are closed. */
  readonly idleTimeoutMs: number;
  readonly now?: () => number;
}

/** Keeps idle connections by backend key. */
export class ConnectionPool {
  readonly #idle = new Map<string, Connection[]>();
  readonly #opts: PoolOptions;
  readonly #now: () => number;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: PoolOptions) {
    this.#opts = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** An idle connection for `key`, or undefined. */
  take(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    if (!list) return undefined;
    for (let c = list.pop(); c; c = list.pop()) {
      c.idle = false;
      if (!c.closed) return c;
    }
    return undefined;
  }

  /** Returns a connection after a complete exchange; closes it if over the cap. */
  put(key: string, c: Connection): void {
    if (c.closed) return;
    let list = this.#idle.get(key);
    if (!list) this.#idle.set(key, list = []);
    if (list.length >= this.#opts.maxIdlePerKey) return c.close();
    c.idleSince = this.#now();
    c.idle = true;
    list.push(c);
    c.watch(() => this.#drop(key, c));
    this.#startSweeper();
  }

  /** Idle connections for `key` (for tests and status). */
  idleCount(key: string): number {
    return this.#idle.get(key)?.length ?? 0;
  }

  #drop(key: string, c: Connection): void {
    c.close();
    const list = this.#idle.get(key);
    const i = list?.indexOf(c) ?? -1;
    if (list && i !== -1) list.splice(i, 1);
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const period = Math.max(100, Math.min(this.#opts.idleTimeoutMs / 2, 5000));
    this.#sweeper = setInterval(() => this.sweep(), period);
    // The sweep must never keep the process alive by itself.
    Deno.unrefTimer(this.#sweeper as unknown as number);
  }

  /** Closes connections idle longer than the timeout. */
  sweep(): void {
    const cutoff = this.#now() - this.#opts.idleTimeoutMs;
    for (const [key, list] of this.#idle) {
      const keep = list.filter((c) => {
        if (c.closed) return false;
        if (c.idleSince > cutoff) return true;
        c.idle = false;
        c.close();
        return false;
      });
      if (keep.length === 0) this.#idle.delete(key);
      else this.#idle.set(key, keep);
    }
  }

  /** Closes every idle connection and stops the sweeper. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const list of this.#idle.values()) for (const c of list) c.close();
    this.#idle.clear();
  }
}
