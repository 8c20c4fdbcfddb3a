/**
 * Counts a replay as it goes, and turns the counts into a
 * {@link ReplayReport}: per route, per pool and per backend within each
 * pool, how many requests went there before (the log) and would after (the
 * simulation); how many kept their destination, moved, became or stopped
 * being rejected; and the rejections after, by status, route and reason.
 * The six outcomes of the summary (same, moved, newly rejected, still
 * rejected, no longer rejected, needs credentials) add up to the requests
 * simulated. Pure: the caller feeds it lines and fates.
 *
 * @module
 */

import { type Fate, fateBackend, type RejectReason } from "./types.ts";

/** One row of a share table: a name and its counts before and after. */
export interface Share {
  /** A route's or pool's name, or a backend's origin. */
  readonly name: string;
  /** Requests the log shows there. */
  readonly before: number;
  /** Requests the simulation sends there. */
  readonly after: number;
}

/** A pool's row, with its backends' rows (`none`: the lb answered; `?`: not simulated). */
export interface PoolShare extends Share {
  /** The pool's backends, the new config's first; shares are of the pool. */
  readonly backends: readonly Share[];
}

/** Rejections after, of one status on one route for one reason. */
export interface Rejection {
  /** The status the lb would answer. */
  readonly status: number;
  /** The route that refused; `none` when none matched. */
  readonly route: string;
  /** Why. */
  readonly reason: RejectReason;
  /** How many requests. */
  readonly count: number;
  /** Of `count`, those a backend answered before. */
  readonly newly: number;
}

/** The headline numbers. */
export interface Summary {
  /** Lines in the log. */
  readonly lines: number;
  /** Blank lines and JSON lines that are no request records. */
  readonly skipped: number;
  /** Lines that could not be read as request records. */
  readonly malformed: number;
  /** The first malformed lines, with why. */
  readonly malformedLines: readonly { readonly line: number; readonly reason: string }[];
  /** Request records replayed. */
  readonly simulated: number;
  /** Served both times by the same route, pool and backend. */
  readonly same: number;
  /** Served both times, elsewhere: to another route, another pool of the same route, or another backend only. */
  readonly moved: {
    readonly total: number;
    readonly route: number;
    readonly pool: number;
    readonly backend: number;
  };
  /** Served before, rejected after, by status. */
  readonly newlyRejected: { readonly total: number; readonly byStatus: Record<string, number> };
  /** Rejected both times (the statuses may differ). */
  readonly stillRejected: number;
  /** Rejected before (by the lb, or no backend answered), served after. */
  readonly noLongerRejected: number;
  /** An auth policy decides on credentials the log does not show. */
  readonly needsCredentials: number;
}

/** A whole replay's result, as `--format json` prints it. */
export interface ReplayReport {
  /** The new config's path, as given. */
  readonly config: string;
  /** The log's path, or `stdin`. */
  readonly log: string;
  /** The seed of the random choices. */
  readonly seed: number;
  /** The headline numbers. */
  readonly summary: Summary;
  /** Per route, the new config's first. */
  readonly routes: readonly Share[];
  /** Per pool, with per backend. */
  readonly pools: readonly PoolShare[];
  /** The rejections after, by status (then most first). */
  readonly rejected: readonly Rejection[];
  /** What was simulated and what was not. */
  readonly notes: readonly string[];
}

/** Names that come first in the tables, in this order (the new config's). */
export interface TallyOrder {
  /** Route names. */
  readonly routes: readonly string[];
  /** Pool names, each with its backends' origins. */
  readonly pools: readonly { readonly name: string; readonly backends: readonly string[] }[];
}

/** How many malformed lines are listed by number. */
export const MALFORMED_SHOWN = 5;

class Counts {
  readonly map = new Map<string, { before: number; after: number }>();
  add(name: string, side: "before" | "after"): void {
    let c = this.map.get(name);
    if (c === undefined) this.map.set(name, c = { before: 0, after: 0 });
    c[side]++;
  }
  rows(first: readonly string[]): Share[] {
    const names = [...first, ...this.map.keys()];
    const seen = new Set<string>();
    const rows: Share[] = [];
    for (const name of names) {
      if (seen.has(name) || name === "none") continue;
      seen.add(name);
      const c = this.map.get(name) ?? { before: 0, after: 0 };
      rows.push({ name, ...c });
    }
    const none = this.map.get("none");
    if (none) rows.push({ name: "none", ...none });
    return rows;
  }
}

/** Accumulates one replay. */
export class Tally {
  #lines = 0;
  #skipped = 0;
  readonly #malformed: { line: number; reason: string }[] = [];
  #malformedCount = 0;
  #simulated = 0;
  #same = 0;
  readonly #moved = { total: 0, route: 0, pool: 0, backend: 0 };
  readonly #newly: Record<string, number> = {};
  #newlyTotal = 0;
  #still = 0;
  #noLonger = 0;
  #credentials = 0;
  readonly #routes = new Counts();
  readonly #pools = new Counts();
  readonly #backends = new Map<string, Counts>();
  readonly #rejections = new Map<string, Rejection & { count: number; newly: number }>();

  /** A line was read (call once per line, whatever it held). */
  line(): void {
    this.#lines++;
  }

  /** The line held no request record. */
  skip(): void {
    this.#skipped++;
  }

  /** Line `line` was malformed. */
  malformed(line: number, reason: string): void {
    if (this.#malformed.length < MALFORMED_SHOWN) this.#malformed.push({ line, reason });
    this.#malformedCount++;
  }

  /** One request: what the log says happened, and what would now. */
  add(before: Fate, after: Fate): void {
    this.#simulated++;
    this.#side(before, "before");
    this.#side(after, "after");
    if (after.kind === "credentials") this.#credentials++;
    else if (after.kind === "rejected") {
      const key = `${after.status}\n${after.route}\n${after.reason}`;
      let row = this.#rejections.get(key);
      if (row === undefined) {
        row = {
          status: after.status,
          route: after.route,
          reason: after.reason,
          count: 0,
          newly: 0,
        };
        this.#rejections.set(key, row);
      }
      row.count++;
      if (before.kind === "served") {
        row.newly++;
        this.#newlyTotal++;
        this.#newly[after.status] = (this.#newly[after.status] ?? 0) + 1;
      } else this.#still++;
    } else if (before.kind !== "served") this.#noLonger++;
    else if (before.route !== after.route) this.#move("route");
    else if (before.pool !== after.pool) this.#move("pool");
    else if (before.backend !== after.backend) this.#move("backend");
    else this.#same++;
  }

  #move(what: "route" | "pool" | "backend"): void {
    this.#moved.total++;
    this.#moved[what]++;
  }

  #side(fate: Fate, side: "before" | "after"): void {
    this.#routes.add(fate.route, side);
    this.#pools.add(fate.pool, side);
    let backends = this.#backends.get(fate.pool);
    if (backends === undefined) this.#backends.set(fate.pool, backends = new Counts());
    backends.add(fateBackend(fate), side);
  }

  /** The report so far. */
  report(
    meta: { readonly config: string; readonly log: string; readonly seed: number },
    order: TallyOrder,
    notes: readonly string[],
  ): ReplayReport {
    const firstBackends = new Map(order.pools.map((p) => [p.name, p.backends]));
    return {
      ...meta,
      summary: {
        lines: this.#lines,
        skipped: this.#skipped,
        malformed: this.#malformedCount,
        malformedLines: [...this.#malformed],
        simulated: this.#simulated,
        same: this.#same,
        moved: { ...this.#moved },
        newlyRejected: { total: this.#newlyTotal, byStatus: sortedKeys(this.#newly) },
        stillRejected: this.#still,
        noLongerRejected: this.#noLonger,
        needsCredentials: this.#credentials,
      },
      routes: this.#routes.rows(order.routes),
      pools: this.#pools.rows(order.pools.map((p) => p.name)).map((row) => ({
        ...row,
        backends: (this.#backends.get(row.name) ?? new Counts()).rows(
          firstBackends.get(row.name) ?? [],
        ),
      })),
      rejected: [...this.#rejections.values()]
        .map((r) => ({ ...r }))
        .sort((a, b) => a.status - b.status || b.count - a.count),
      notes,
    };
  }
}

function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => Number(a) - Number(b)));
}
