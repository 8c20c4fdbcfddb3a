/**
 * The route table: routes compiled once from configuration, then matched
 * per request in order; the first route whose every test passes wins, so
 * an earlier, narrower route shadows a later, wider one. `paths` and
 * `pathPrefixes` are two tests like the others: a route that gives both
 * needs both to pass.
 *
 * Matching is on the hot path. A route with an empty match (the whole
 * table of a single-pool config) is flagged at compile time and returned
 * without reading the request. Otherwise a route's tests run cheapest
 * first (method, host, path, headers, query), and the two costs shared
 * across routes are paid at most once per request and only when a test
 * needs them: the host is normalised on first use, and the query is parsed
 * only when a route with a query test is reached.
 *
 * Routes are immutable except for a split's rotation, which is per route:
 * compile a new table on reload and swap it in whole.
 *
 * @module
 */

import type { HeaderPairs } from "../core/transport.ts";
import type { RouteConfig, RouteMatch, RouteTarget } from "../config/types.ts";
import {
  compileHeaders,
  compileQuery,
  type HeaderTest,
  parseQuery,
  type QueryTest,
} from "./fields.ts";
import { compileHosts, type HostTest, normalizeHost } from "./host.ts";
import { compilePaths, compilePrefixes, type PathTest, rewritePath } from "./path.ts";
import { SmoothSplit } from "./split.ts";

export type { HeaderPairs, RouteConfig, RouteMatch, RouteTarget };

/** What routing reads from a request. */
export interface RouteRequest {
  /** As received; compared exactly (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The `Host` field or `:authority`, raw (any case, maybe a port); null when absent. */
  readonly host: string | null;
  /** The request target in origin form, query included (`/api/x?q=1`). */
  readonly path: string;
  /** The request's header fields, names in lower case. */
  readonly headers: HeaderPairs;
}

/** A route ready to match and to pick a pool. */
export interface CompiledRoute {
  /** The route's name, a metric label. */
  readonly name: string;
  /** Its position in the table, from 0. */
  readonly index: number;
  /** The configuration it was compiled from. */
  readonly config: RouteConfig;
  /** The pool that gets a copy of each request, if any. */
  readonly mirror?: string;
  /** The pool for this request: the route's pool, or the split's next pick. */
  pool(): string;
  /** The target to send upstream: `stripPrefix` replaced, or the same string when the route has none. */
  rewrite(path: string): string;
}

/** A compiled route table. */
export interface Router {
  /** Every route, in match order. */
  readonly routes: readonly CompiledRoute[];
  /** The first route that matches the request, or undefined when none does. */
  match(req: RouteRequest): CompiledRoute | undefined;
}

/** Compiles routes (in match order) into a router. Throws on a split without a positive weight. */
export function compileRoutes(routes: readonly RouteConfig[]): Router {
  return new Table(routes.map((config, index) => new Route(config, index)));
}

/** One compiled route; its tests are undefined when the config has none. */
class Route implements CompiledRoute {
  readonly name: string;
  readonly mirror?: string;
  readonly pool: () => string;
  readonly rewrite: (path: string) => string;
  readonly methods?: readonly string[];
  readonly host?: HostTest;
  readonly paths?: PathTest;
  readonly prefixes?: PathTest;
  readonly headers?: HeaderTest;
  readonly query?: QueryTest;
  /** No test at all: the route takes every request. */
  readonly matchAll: boolean;

  constructor(readonly config: RouteConfig, readonly index: number) {
    const { match, mirror, stripPrefix, replacePrefix } = config;
    this.name = config.name;
    this.mirror = mirror;
    this.pool = picker(config.target);
    this.rewrite = stripPrefix === undefined
      ? (path) => path
      : (path) => rewritePath(path, stripPrefix, replacePrefix);
    if (match.methods?.length) this.methods = [...match.methods];
    if (match.hosts?.length) this.host = compileHosts(match.hosts);
    if (match.paths?.length) this.paths = compilePaths(match.paths);
    if (match.pathPrefixes?.length) this.prefixes = compilePrefixes(match.pathPrefixes);
    this.headers = match.headers && compileHeaders(match.headers);
    this.query = match.query && compileQuery(match.query);
    this.matchAll = !this.methods && !this.host && !this.paths && !this.prefixes &&
      !this.headers && !this.query;
  }
}

/** The pool chooser for a target. */
function picker(target: RouteTarget): () => string {
  switch (target.kind) {
    case "pool": {
      const { pool } = target;
      return () => pool;
    }
    case "split": {
      const split = new SmoothSplit(target.weights);
      return () => split.next();
    }
  }
}

class Table implements Router {
  readonly routes: readonly Route[];
  /** The first route when it matches everything: then {@link match} reads nothing. */
  readonly #always: Route | undefined;

  constructor(routes: readonly Route[]) {
    this.routes = routes;
    this.#always = routes[0]?.matchAll ? routes[0] : undefined;
  }

  match(req: RouteRequest): CompiledRoute | undefined {
    if (this.#always !== undefined) return this.#always;
    // Per request, computed on first need: undefined means not yet.
    let host: string | null | undefined;
    let params: URLSearchParams | undefined;
    for (const r of this.routes) {
      if (r.matchAll) return r;
      if (r.methods !== undefined && !r.methods.includes(req.method)) continue;
      if (r.host !== undefined) {
        if (host === undefined) {
          const raw = req.host;
          host = raw === null ? null : normalizeHost(raw);
        }
        if (host === null || !r.host(host)) continue;
      }
      if (r.paths !== undefined && !r.paths(req.path)) continue;
      if (r.prefixes !== undefined && !r.prefixes(req.path)) continue;
      if (r.headers !== undefined && !r.headers(req.headers)) continue;
      if (r.query !== undefined && !r.query(params ??= parseQuery(req.path))) continue;
      return r;
    }
    return undefined;
  }
}
