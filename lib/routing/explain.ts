/**
 * Why a route matched, for `X-LB-Explain`: the route table's tests run
 * again, one pattern at a time, in the router's order (method, host, path,
 * prefix, headers, query), saying which pattern of each test passed and, for
 * every earlier route, the first test that failed. Pure, and only run for a
 * request that asked for an explanation, so it may recompile what it needs
 * rather than reach into the router's compiled tests.
 *
 * Header and query values are not repeated (they may be credentials); the
 * field or parameter's name is.
 *
 * @module
 */

import type { RouteExplanation } from "../core/explain.ts";
import type { RouteMatch } from "../config/types.ts";
import { compileHeaders, compileQuery, parseQuery } from "./fields.ts";
import { compileHosts, normalizeHost } from "./host.ts";
import { hasPathPrefix, isPath } from "./path.ts";
import type { CompiledRoute, RouteRequest } from "./router.ts";

/** One route's tests against a request: what passed, or the first that failed. */
export type RouteVerdict =
  | { readonly matched: true; readonly why: readonly string[] }
  | { readonly matched: false; readonly failed: string };

/** Runs `match`'s tests on `req` in the router's order. */
export function judgeRoute(match: RouteMatch, req: RouteRequest): RouteVerdict {
  const why: string[] = [];
  if (match.methods?.length) {
    if (!match.methods.includes(req.method)) return { matched: false, failed: "method" };
    why.push(`method ${req.method} matched`);
  }
  if (match.hosts?.length) {
    const host = req.host === null ? null : normalizeHost(req.host);
    const hit = host === null ? undefined : match.hosts.find((p) => compileHosts([p])(host));
    if (hit === undefined) return { matched: false, failed: "host" };
    why.push(`host ${hit} matched`);
  }
  if (match.paths?.length) {
    const hit = match.paths.find((p) => isPath(req.path, p));
    if (hit === undefined) return { matched: false, failed: "path" };
    why.push(`path ${hit} matched`);
  }
  if (match.pathPrefixes?.length) {
    const hit = match.pathPrefixes.find((p) => hasPathPrefix(req.path, p));
    if (hit === undefined) return { matched: false, failed: "prefix" };
    why.push(`prefix ${hit} matched`);
  }
  for (const [name, values] of Object.entries(match.headers ?? {})) {
    const test = compileHeaders({ [name]: values });
    if (test === undefined) continue;
    if (!test(req.headers)) return { matched: false, failed: `header ${name.toLowerCase()}` };
    why.push(`header ${name.toLowerCase()} matched`);
  }
  const query = Object.entries(match.query ?? {});
  const params = query.length > 0 ? parseQuery(req.path) : undefined;
  for (const [name, values] of query) {
    const test = compileQuery({ [name]: values });
    if (test === undefined) continue;
    if (!test(params!)) return { matched: false, failed: `query ${name}` };
    why.push(`query ${name} matched`);
  }
  if (why.length === 0) why.push("matches every request");
  return { matched: true, why };
}

/**
 * Why `chosen` (the router's match for `req`) was taken: its passing tests,
 * and each route before it with the first test it failed.
 */
export function explainRoute(
  routes: readonly CompiledRoute[],
  chosen: CompiledRoute,
  req: RouteRequest,
): RouteExplanation {
  const skipped: { route: string; failed: string }[] = [];
  for (const r of routes) {
    if (r === chosen) break;
    const verdict = judgeRoute(r.config.match, req);
    // A route before the chosen one can't pass: the router would have taken it.
    skipped.push({ route: r.name, failed: verdict.matched ? "?" : verdict.failed });
  }
  const verdict = judgeRoute(chosen.config.match, req);
  return { name: chosen.name, why: verdict.matched ? verdict.why : [], skipped };
}

/** Each route's first failed test, for a request no route matched. */
export function explainNoRoute(
  routes: readonly CompiledRoute[],
  req: RouteRequest,
): { route: string; failed: string }[] {
  return routes.map((r) => {
    const verdict = judgeRoute(r.config.match, req);
    return { route: r.name, failed: verdict.matched ? "?" : verdict.failed };
  });
}
