/**
 * The commands a pipelined Redis connection waits on, oldest first: RESP2
 * replies come back in the order commands were sent, so each reply belongs
 * to the oldest command still waiting. A command past its deadline is
 * failed at once but keeps its place, so the reply that comes late is
 * matched to it (and dropped) rather than to the command behind it.
 *
 * @module
 */

import type { RespValue } from "./redis_resp.ts";

/** Why a command got no reply: it timed out, the connection failed or was lost, or the reply was unusable. */
export type FailureReason = "timeout" | "connection" | "reply";

/** A command that got no usable reply. */
export class StoreFailure extends Error {
  constructor(readonly reason: FailureReason, message: string) {
    super(message);
    this.name = "StoreFailure";
  }
}

/** One command waiting for its reply. */
export interface Pending {
  readonly resolve: (value: RespValue) => void;
  readonly reject: (err: StoreFailure) => void;
  /** When it fails as timed out (monotonic ms). */
  readonly deadline: number;
  /** When it was sent. */
  readonly sent: number;
  /** Resolved, rejected or timed out: a reply for it is dropped. */
  settled: boolean;
}

/** The commands of one connection that wait for replies, in order. */
export class PendingReplies {
  #queue: Pending[] = [];
  #head = 0;

  /** Commands still owed a reply, timed-out ones included. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** When the oldest command owed a reply was sent; undefined when none is. */
  get oldestSent(): number | undefined {
    return this.#head < this.#queue.length ? this.#queue[this.#head].sent : undefined;
  }

  /** A command just sent. */
  add(p: Pending): void {
    this.#queue.push(p);
  }

  /** Gives `value` to the oldest command; false when none waits (the server broke the protocol). */
  deliver(value: RespValue): boolean {
    const queue = this.#queue;
    const p = queue[this.#head];
    if (p === undefined) return false;
    queue[this.#head++] = undefined as never; // let it go now
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    if (!p.settled) {
      p.settled = true;
      p.resolve(value);
    }
    return true;
  }

  /** Fails every command past its deadline at `now` with `timedOut()`; returns the earliest deadline left (Infinity when none). */
  expire(now: number, timedOut: () => StoreFailure): number {
    const queue = this.#queue;
    let next = Infinity;
    for (let i = this.#head; i < queue.length; i++) {
      const p = queue[i];
      if (p.settled) continue;
      if (p.deadline <= now) {
        p.settled = true;
        p.reject(timedOut());
      } else if (p.deadline < next) next = p.deadline;
    }
    return next;
  }

  /** Fails every command with `err` and forgets them all (the connection is gone). */
  failAll(err: StoreFailure): void {
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    for (let i = head; i < queue.length; i++) {
      const p = queue[i];
      if (!p.settled) {
        p.settled = true;
        p.reject(err);
      }
    }
  }
}
