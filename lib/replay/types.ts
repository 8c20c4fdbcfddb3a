/**
 * What a replay reads and decides, in a leaf module so the reader, the
 * simulator and the tally share it without importing each other.
 *
 * @module
 */

/** One request as the JSON access log recorded it: the fields a replay needs. */
export interface ReplayRecord {
  /** The line it came from, from 1. */
  readonly line: number;
  /** When the request arrived: the log's `time` less its `duration_ms`, ms since the epoch. */
  readonly at: number;
  /** The request method. */
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly path: string;
  /** The `Host` the client asked for; null when it sent none. */
  readonly host: string | null;
  /** The client's address as the lb saw it. */
  readonly client: string;
  /** The status the client got. */
  readonly status: number;
  /** The route's name; `none` when no route matched. */
  readonly route: string;
  /** The pool's name; `none` when none. */
  readonly pool: string;
  /** The backend that answered; `none` when none did. */
  readonly backend: string;
  /** Who an auth policy let through, when one did. */
  readonly user?: string;
}

/** Why a request was (or would be) answered by the lb itself rather than a backend. */
export type RejectReason =
  | "no-host"
  | "no-route"
  | "ip"
  | "rate-limit"
  | "basic-auth"
  | "no-backend"
  /** Before only: the log shows a status and no backend (a policy, or every attempt failed). */
  | "logged";

/** Where one request went, or would go. */
export type Fate =
  /** A backend answered (before), or would be picked (after). */
  | {
    readonly kind: "served";
    readonly route: string;
    readonly pool: string;
    readonly backend: string;
  }
  /** The lb answered `status` itself; `route` and `pool` are `none` when it never got that far. */
  | {
    readonly kind: "rejected";
    readonly status: number;
    readonly reason: RejectReason;
    readonly route: string;
    readonly pool: string;
  }
  /** After only: an auth policy decides on credentials the log does not show. */
  | {
    readonly kind: "credentials";
    readonly policy: "basic-auth" | "forward-auth";
    readonly route: string;
    readonly pool: string;
  };

/** The backend column of a fate: the origin, `none` for a rejection, `?` when not simulated. */
export function fateBackend(fate: Fate): string {
  return fate.kind === "served" ? fate.backend : fate.kind === "rejected" ? "none" : "?";
}

/** What the log recorded for a request: a backend answered, or the lb did. */
export function loggedFate(r: ReplayRecord): Fate {
  if (r.backend !== "none") {
    return { kind: "served", route: r.route, pool: r.pool, backend: r.backend };
  }
  return { kind: "rejected", status: r.status, reason: "logged", route: r.route, pool: r.pool };
}
