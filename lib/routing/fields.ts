/**
 * Header and query tests for routes. Each takes a map of name -> accepted
 * values; every name must pass, and a name passes when any of its values
 * (a header may come in several fields, a parameter may repeat) equals one
 * of the accepted ones exactly.
 *
 * Header values are compared after trimming optional whitespace (spaces and
 * tabs, RFC 9110 §5.5), which parsers usually do but need not; nothing else
 * is normalised, and a comma-separated list is one value, since splitting
 * would wrongly cut values such as dates. Query values are compared
 * decoded, with `URLSearchParams` semantics (`%20` and `+` are a space), as
 * applications read them.
 *
 * An empty list of accepted values is no test at all; the config parser is
 * expected to refuse it.
 *
 * @module
 */

import type { HeaderPairs } from "../core/transport.ts";

export type { HeaderPairs };

/** Tests a request's header fields. */
export type HeaderTest = (fields: HeaderPairs) => boolean;

/** Tests a request's parsed query. */
export type QueryTest = (params: URLSearchParams) => boolean;

/** Name -> accepted values, as in `RouteMatch.headers` and `RouteMatch.query`. */
export type Accepted = Readonly<Record<string, readonly string[]>>;

/** `value` without leading and trailing spaces and tabs; the same string when there are none. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Compiles header tests; undefined when there are none, so the router can skip them. */
export function compileHeaders(headers: Accepted): HeaderTest | undefined {
  const tests = compile(headers, (name) => name.toLowerCase(), trimOws);
  if (tests.length === 0) return undefined;
  return (fields) => {
    for (const [name, accepted] of tests) if (!anyHeader(fields, name, accepted)) return false;
    return true;
  };
}

/** Whether some field called `name` has an accepted value. */
function anyHeader(fields: HeaderPairs, name: string, accepted: ReadonlySet<string>): boolean {
  for (let i = 0; i < fields.length; i++) {
    if (fields[i][0] === name && accepted.has(trimOws(fields[i][1]))) return true;
  }
  return false;
}

/** Compiles query tests; undefined when there are none, so the query is never parsed. */
export function compileQuery(query: Accepted): QueryTest | undefined {
  const tests = compile(query, (name) => name, (value) => value);
  if (tests.length === 0) return undefined;
  return (params) => {
    for (const [name, accepted] of tests) {
      if (!params.getAll(name).some((v) => accepted.has(v))) return false;
    }
    return true;
  };
}

/** The non-empty entries of an accepted map, names and values normalised, values in a set. */
function compile(
  accepted: Accepted,
  name: (n: string) => string,
  value: (v: string) => string,
): [string, ReadonlySet<string>][] {
  return Object.entries(accepted)
    .filter(([, values]) => values.length > 0)
    .map(([n, values]) => [name(n), new Set(values.map(value))]);
}

/** The query of a request target, parsed (empty when it has none). */
export function parseQuery(target: string): URLSearchParams {
  const q = target.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : target.slice(q + 1));
}
