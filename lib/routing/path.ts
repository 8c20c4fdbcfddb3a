/**
 * Path tests and prefix rewriting on a request target in origin form
 * (`/api/x?q=1`). Exact paths compare the path without its query; prefixes
 * match by whole segments, so `/api` matches `/api`, `/api/`, `/api/x` and
 * `/api?x` but not `/apix`. A prefix that ends in `/` already marks a
 * segment boundary and matches as a plain string prefix; `/` matches
 * everything.
 *
 * Matching is on the path as sent: no percent-decoding and no dot-segment
 * removal, as Envoy does by default. The backend receives the same bytes,
 * so the lb and the backend agree on what was asked for; decoding here
 * alone would let `/%61pi` or `/x/../api` be routed as `/api` and then be
 * read differently upstream, and normalising both ways would change what
 * backends see. A route that must not be bypassed by encoded variants
 * belongs behind a backend that rejects them.
 *
 * Nothing here allocates unless it rewrites: the query is never split off.
 *
 * @module
 */

/** Tests a request target. */
export type PathTest = (target: string) => boolean;

const SLASH = 0x2f;
const QUERY = 0x3f;

/** Where the path ends in a target: at its `?`, or at its end. */
export function pathEnd(target: string): number {
  const q = target.indexOf("?");
  return q === -1 ? target.length : q;
}

/** Whether the target's path (query excluded) is exactly `path`. */
export function isPath(target: string, path: string): boolean {
  if (!target.startsWith(path)) return false;
  return target.length === path.length || target.charCodeAt(path.length) === QUERY;
}

/**
 * Whether the target's path starts with `prefix` by whole segments (see the
 * module doc). Only the path is looked at, so a prefix never matches part
 * of the query.
 */
export function hasPathPrefix(target: string, prefix: string): boolean {
  if (prefix === "/") return true;
  if (!target.startsWith(prefix) || prefix.length > pathEnd(target)) return false;
  if (prefix.charCodeAt(prefix.length - 1) === SLASH) return true;
  if (target.length === prefix.length) return true;
  const next = target.charCodeAt(prefix.length);
  return next === SLASH || next === QUERY;
}

/** Compiles exact paths (any of them may match) into one test. */
export function compilePaths(given: readonly string[]): PathTest {
  const paths = [...given];
  if (paths.length === 1) {
    const [only] = paths;
    return (target) => isPath(target, only);
  }
  return (target) => {
    for (let i = 0; i < paths.length; i++) if (isPath(target, paths[i])) return true;
    return false;
  };
}

/** Compiles path prefixes (any of them may match) into one test; `/` among them makes it always pass. */
export function compilePrefixes(given: readonly string[]): PathTest {
  const prefixes = [...given];
  if (prefixes.includes("/")) return () => true;
  if (prefixes.length === 1) {
    const [only] = prefixes;
    return (target) => hasPathPrefix(target, only);
  }
  return (target) => {
    for (let i = 0; i < prefixes.length; i++) if (hasPathPrefix(target, prefixes[i])) return true;
    return false;
  };
}

/**
 * Replaces `stripPrefix` at the start of the target's path with
 * `replacePrefix` (`/` when absent), keeping the query. The prefix matches
 * as in {@link hasPathPrefix}; a target whose path does not start with it
 * comes back unchanged (the same string). The result always starts with
 * `/` and never has `//` at the join:
 *
 * - `/api/x` strip `/api` -> `/x`; `/api` -> `/`; `/api?q=1` -> `/?q=1`
 * - with replace `/v2`: `/api/x` -> `/v2/x`, `/api` -> `/v2`
 * - with replace `/v2/`: `/api/x` -> `/v2/x`
 */
export function rewritePath(target: string, stripPrefix: string, replacePrefix = "/"): string {
  // `/` matches every target, but only a target that starts with it has a path to rewrite.
  if (!target.startsWith(stripPrefix) || !hasPathPrefix(target, stripPrefix)) return target;
  const replace = replacePrefix.charCodeAt(0) === SLASH ? replacePrefix : `/${replacePrefix}`;
  const rest = target.slice(stripPrefix.length);
  const first = rest.charCodeAt(0);
  const endsSlash = replace.charCodeAt(replace.length - 1) === SLASH;
  // rest is "", "?query", "/more" (prefix without a trailing slash) or "more" (with one).
  if (rest.length === 0 || first === QUERY) return replace + rest;
  if (first === SLASH) return endsSlash ? replace + rest.slice(1) : replace + rest;
  return endsSlash ? replace + rest : `${replace}/${rest}`;
}
