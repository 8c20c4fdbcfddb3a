/**
 * A route's `match`, from the file's form (each test a string or a list;
 * `headers` and `query` objects of name -> string or list) to a
 * {@link RouteMatch}: host patterns and header names lower case (both are
 * case-insensitive), methods upper case (they are case-sensitive and
 * registered upper case, RFC 9110 §9.1), paths checked to be paths, so the
 * router compares strings and never re-validates.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import type { FileRoute } from "./file.ts";
import { HOSTNAME, TOKEN } from "./parsers.ts";
import type { RouteMatch } from "./types.ts";

type Strings = string | readonly string[];

/** A path as routes use it: from `/`, without whitespace, query or fragment. */
export const ROUTE_PATH = /^\/[^\s?#]*$/;

/** The message for a value that is not a route path. */
export function notAPath(value: string): string {
  return `"${value}" is not a path (expected / and segments, without spaces, ? or #)`;
}

/** Reads a route's match; every problem is reported at `at` + the key. */
export function parseMatch(p: Problems, raw: FileRoute["match"], at: string): RouteMatch {
  const list = (key: string) => {
    const v = raw[key] as Strings | undefined;
    return v === undefined ? undefined : typeof v === "string" ? [v] : [...v];
  };
  const each = (key: string, check: (v: string) => string | undefined) =>
    list(key)?.map((v) => {
      const problem = check(v);
      if (problem) p.at(`${at}.${key}`, problem);
      return v;
    });
  const match: Record<string, unknown> = {
    hosts: each("host", hostProblem)?.map(normalizeHostPattern),
    pathPrefixes: each("path-prefix", (v) => (ROUTE_PATH.test(v) ? undefined : notAPath(v))),
    paths: each("path", (v) => (ROUTE_PATH.test(v) ? undefined : notAPath(v))),
    methods: each(
      "method",
      (v) => TOKEN.test(v) ? undefined : `"${v}" is not a method (expected a token such as GET)`,
    )
      ?.map((m) => m.toUpperCase()),
    headers: fields(p, raw.headers, `${at}.headers`, true),
    query: fields(p, raw.query, `${at}.query`, false),
  };
  for (const key of Object.keys(match)) if (match[key] === undefined) delete match[key];
  return match as RouteMatch;
}

/** What is wrong with a host pattern, if anything. */
function hostProblem(pattern: string): string | undefined {
  const name = pattern.startsWith("*.") ? pattern.slice(2) : pattern;
  if (HOSTNAME.test(name)) return undefined;
  return `"${pattern}" is not a host name or *.domain (expected e.g. api.example.com or ` +
    "*.example.com, without a port)";
}

/** Lower case, without the trailing dot a fully qualified name may carry. */
function normalizeHostPattern(pattern: string): string {
  const lower = pattern.toLowerCase();
  return lower.length > 1 && lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Reads `headers` (names lower-cased, as they compare) or `query` (names as given). */
function fields(
  p: Problems,
  raw: unknown,
  at: string,
  isHeader: boolean,
): Record<string, string[]> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(raw as Record<string, Strings>)) {
    const key = isHeader ? name.toLowerCase() : name;
    if (isHeader && !TOKEN.test(name)) {
      p.at(`${at}.${name}`, `"${name}" is not a field name (expected a token such as x-canary)`);
    } else if (!isHeader && name === "") {
      p.at(at, "a query parameter needs a name");
    } else if (key in out) {
      p.at(`${at}.${name}`, `"${name}" is given twice (field names ignore case)`);
    }
    out[key] = typeof values === "string" ? [values] : [...values];
  }
  return out;
}
