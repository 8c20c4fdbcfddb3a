/**
 * `X-LB-Explain` (issue 13): what the lb decided for one request and why -
 * the route and the tests that chose it, the candidates the strategy
 * weighed, each attempt and its retry reason, and what the route's policies
 * did. One {@link Explain} is made per explained request, only when the
 * request carries the admin token (`proxy/explain.ts`); every
 * recording site is an optional call (`explain?.x(...)`), so an unexplained
 * request pays nothing.
 *
 * It sits at the bottom of the layers so balancing, routing, the policies
 * and the proxy can all record into it, and the access log can carry it.
 * {@link renderExplain} makes the response field: one line of ASCII JSON,
 * bounded in size.
 *
 * @module
 */

/** A value a trace may hold: plain JSON scalars, or a list of them. */
export type ExplainValue = string | number | boolean | readonly (string | number)[];

/** Named facts about one decision. */
export type ExplainFields = Readonly<Record<string, ExplainValue>>;

/**
 * What a strategy reports while it picks, through `PickContext.trace`: every
 * backend it weighed, and facts about the pick itself (a draw, a key).
 */
export interface PickTrace {
  /** A backend the strategy weighed, with what it weighed (scores, in-flight, weight). */
  candidate(backend: string, fields: ExplainFields): void;
  /** A fact about the pick as a whole (the random draw, the hash key's source). */
  note(fields: ExplainFields): void;
}

/** Why the chosen route matched, and the first test each earlier route failed. */
export interface RouteExplanation {
  readonly name: string;
  /** Each test of the route that passed, in the order the router runs them. */
  readonly why: readonly string[];
  /** Routes before it, and the first of their tests that failed. */
  readonly skipped: readonly { readonly route: string; readonly failed: string }[];
}

/** One upstream attempt. */
export interface ExplainAttempt {
  readonly backend: string;
  /** The status, or the failure kind (`connect_failed`, `response_timeout`...). */
  outcome?: number | string;
  /** The retry's reason (the `lb_retries_total` label) when one followed. */
  retry?: string;
  /** Why no retry followed a failure or a retried status. */
  noRetry?: string;
}

/** The explanation as a JSON-able object: what the field and the access log carry. */
export type ExplainRecord = Readonly<Record<string, unknown>>;

/** The response field's largest size in bytes; lists are cut to fit. */
export const EXPLAIN_MAX_BYTES = 4096;

/** One request's explanation, filled in as the request goes. */
export class Explain implements PickTrace {
  route?: RouteExplanation | { readonly name: string; readonly forced: true };
  /** Why no route was taken (no match, a hook's answer). */
  noRoute?: string;
  pool?: string;
  /** Set when the route is a split: the rotation's weights. */
  split?: Readonly<Record<string, number>>;
  strategy?: string;
  readonly picks: Record<string, ExplainValue>[] = [];
  readonly candidates: Record<string, ExplainValue>[] = [];
  readonly attempts: ExplainAttempt[] = [];
  readonly policies: string[] = [];
  /** A policy's own answer (a refusal), by status. */
  refusedBy?: { readonly policy: string; readonly status: number };
  status?: number;

  /** A new pick begins (each attempt has one; a full backend's limit may add more). */
  beginPick(): void {
    this.picks.push({ pick: this.picks.length });
  }

  candidate(backend: string, fields: ExplainFields): void {
    this.candidates.push({ pick: Math.max(0, this.picks.length - 1), backend, ...fields });
  }

  note(fields: ExplainFields): void {
    if (this.picks.length === 0) this.beginPick();
    Object.assign(this.picks[this.picks.length - 1], fields);
  }

  /** The current pick's result: the backend chosen, or none. */
  chose(backend: string | undefined): void {
    this.note({ chose: backend ?? "none" });
  }

  /** An attempt starts on `backend`; its outcome and retry are filled in later. */
  attempt(backend: string): ExplainAttempt {
    const a: ExplainAttempt = { backend };
    this.attempts.push(a);
    return a;
  }

  /** The last attempt's retry decision: the reason it was retried, or why not. */
  retried(reason: string): void {
    const last = this.attempts.at(-1);
    if (last) last.retry = reason;
  }

  /** No retry follows the last attempt, for `why`; the first reason given stays. */
  notRetried(why: string): void {
    const last = this.attempts.at(-1);
    if (last && last.retry === undefined && last.noRetry === undefined) last.noRetry = why;
  }

  /** What a policy did: `rate-limit: allowed, 9 left`. */
  policy(kind: string, what: string): void {
    this.policies.push(`${kind}: ${what}`);
  }

  /** The explanation as plain JSON data, with `limit` entries at most per list. */
  toRecord(limit = Infinity): ExplainRecord {
    const out: Record<string, unknown> = {};
    let truncated = false;
    const cut = <T>(list: readonly T[]): T[] => {
      if (list.length <= limit) return [...list];
      truncated = true;
      return list.slice(0, limit);
    };
    if (this.route) {
      out.route = "skipped" in this.route
        ? { ...this.route, why: cut(this.route.why), skipped: cut(this.route.skipped) }
        : this.route;
    }
    if (this.noRoute !== undefined) out.noRoute = this.noRoute;
    if (this.pool !== undefined) out.pool = this.pool;
    if (this.split !== undefined) out.split = this.split;
    if (this.strategy !== undefined) out.strategy = this.strategy;
    if (this.picks.length > 0) out.picks = cut(this.picks);
    if (this.candidates.length > 0) out.candidates = cut(this.candidates);
    if (this.attempts.length > 0) out.attempts = cut(this.attempts);
    if (this.policies.length > 0) out.policies = cut(this.policies);
    if (this.refusedBy) out.refusedBy = this.refusedBy;
    if (this.status !== undefined) out.status = this.status;
    if (truncated) out.truncated = true;
    return out;
  }
}

/**
 * JSON in ASCII: every character above U+007E as `\uXXXX` (UTF-16 units, so
 * an astral character is its surrogate pair). `JSON.stringify` already
 * escapes controls, so the line never holds CR or LF: safe as a field value.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** The bounded record: every list whole when it fits `max` bytes, else cut until it does. */
export function boundedRecord(explain: Explain, max = EXPLAIN_MAX_BYTES): ExplainRecord {
  let record = explain.toRecord();
  if (asciiJson(record).length <= max) return record;
  for (const limit of [16, 8, 4, 2, 1, 0]) {
    record = explain.toRecord(limit);
    if (asciiJson(record).length <= max) return record;
  }
  // Only very long names are left (route or backend): keep what is short.
  return { route: explain.route?.name.slice(0, 200), truncated: true };
}

/** The `X-LB-Explain` response field's value: one ASCII line of at most `max` bytes. */
export function renderExplain(explain: Explain, max = EXPLAIN_MAX_BYTES): string {
  return asciiJson(boundedRecord(explain, max));
}
