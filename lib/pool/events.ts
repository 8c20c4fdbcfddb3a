/**
 * The events a pool reports, and the small listener list each uses: health
 * flips, ejections, and backends joining, draining and leaving.
 *
 * @module
 */

import type { Backend } from "./backend.ts";

/** A change of a backend's health, reported once per flip. */
export interface HealthFlip {
  readonly backend: Backend;
  readonly up: boolean;
  readonly reason: string;
}

/** A backend joining, starting to drain, or leaving the pool. */
export interface MembershipEvent {
  readonly backend: Backend;
  readonly kind: "added" | "draining" | "removed";
}

/** An ejection starting or ending. */
export interface EjectionEvent {
  readonly backend: Backend;
  readonly ejected: boolean;
  readonly reason: string;
}

/** Listeners of one kind of event. */
export class Listeners<E> {
  readonly #list: ((event: E) => void)[] = [];

  /** Adds a listener; returns the function that removes it. */
  add(listener: (event: E) => void): () => void {
    this.#list.push(listener);
    return () => {
      const i = this.#list.indexOf(listener);
      if (i !== -1) this.#list.splice(i, 1);
    };
  }

  /** Tells every listener, in the order they were added. */
  emit(event: E): void {
    for (const l of this.#list) l(event);
  }
}
