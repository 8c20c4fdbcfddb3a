/**
 * Routes from the config file's `routes`, in order: names (given, or
 * `route-N` from 1 in file order; unique, as they are metric labels),
 * matches (`route_match.ts`), targets (a pool, or a weighted split over
 * pools), mirrors and prefix rewrites, every pool reference checked. The
 * schema has already fixed the shape (exactly one of `pool` and `split`,
 * weights whole and positive), so what is left here is meaning.
 *
 * Without `routes`, one pool gets one match-all route called `default`;
 * several pools without routes would leave the lb guessing, so that is an
 * error.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import type { ConfigFile, FileRoute } from "./file.ts";
import { buildPolicySet } from "./policies/mod.ts";
import { notAPath, parseMatch, ROUTE_PATH } from "./route_match.ts";
import type { PolicySet, RouteConfig, RouteTarget } from "./types.ts";
import { fileWhere } from "./values.ts";

/** Reads the routes; `pools` are the pool names, in config order. */
export function buildRoutes(
  p: Problems,
  file: ConfigFile | undefined,
  pools: readonly string[],
): RouteConfig[] {
  if (!file?.routes) {
    if (pools.length === 1) {
      const policies = routePolicies(p, file, undefined, "default");
      const route: RouteConfig = {
        name: "default",
        match: {},
        target: { kind: "pool", pool: pools[0] },
      };
      return [policies ? { ...route, policies } : route];
    }
    p.at(fileWhere(file?.path ?? "", "routes"), "needed when there are several pools");
    return [];
  }
  const known = new Set(pools);
  const names = new Map<string, number>();
  return file.routes.map((route, i) => {
    const at = fileWhere(file.path, `routes[${i}]`);
    const name = route.name ?? `route-${i + 1}`;
    const first = names.get(name);
    if (first !== undefined) {
      const what = route.name === undefined ? `its default name "${name}"` : `"${name}"`;
      p.at(
        route.name === undefined ? at : `${at}.name`,
        `${what} is also the name of routes[${first}]`,
      );
    } else names.set(name, i);
    return buildRoute(p, route, { at, name, known, file });
  });
}

/** The policies of route `name` (the file's defaults under the route's own); undefined when none. */
function routePolicies(
  p: Problems,
  file: ConfigFile | undefined,
  route: FileRoute | undefined,
  name: string,
  at = "",
): PolicySet | undefined {
  const path = file?.path ?? "";
  const set = buildPolicySet(p, {
    defaults: file?.policies,
    route: route?.policies,
    defaultsAt: fileWhere(path, "policies"),
    routeAt: `${at}.policies`,
  }, { route: name, file: path, files: file?.files });
  return Object.keys(set).length === 0 ? undefined : set;
}

interface RouteContext {
  readonly at: string;
  readonly name: string;
  readonly known: ReadonlySet<string>;
  readonly file: ConfigFile;
}

function buildRoute(p: Problems, route: FileRoute, ctx: RouteContext): RouteConfig {
  const { at } = ctx;
  const target = buildTarget(p, route, ctx);
  const config: { -readonly [K in keyof RouteConfig]: RouteConfig[K] } = {
    name: ctx.name,
    match: parseMatch(p, route.match, `${at}.match`),
    target,
  };
  const policies = routePolicies(p, ctx.file, route, ctx.name, at);
  if (policies) config.policies = policies;
  if (route.mirror !== undefined) {
    checkPool(p, route.mirror, `${at}.mirror`, ctx.known);
    const targets = target.kind === "pool" ? [target.pool] : target.weights.map(([n]) => n);
    if (targets.includes(route.mirror)) {
      p.at(`${at}.mirror`, `"${route.mirror}" already serves this route; mirror to another pool`);
    }
    config.mirror = route.mirror;
  }
  for (const key of ["strip-prefix", "replace-prefix"] as const) {
    const value = route[key];
    if (value !== undefined && !ROUTE_PATH.test(value)) p.at(`${at}.${key}`, notAPath(value));
  }
  if (route["replace-prefix"] !== undefined && route["strip-prefix"] === undefined) {
    p.at(`${at}.replace-prefix`, "needs strip-prefix (the prefix it replaces)");
  }
  if (route["strip-prefix"] !== undefined) config.stripPrefix = route["strip-prefix"];
  if (route["replace-prefix"] !== undefined) config.replacePrefix = route["replace-prefix"];
  return config;
}

function buildTarget(p: Problems, route: FileRoute, ctx: RouteContext): RouteTarget {
  if (route.split !== undefined) {
    const weights = Object.entries(route.split);
    for (const [pool] of weights) checkPool(p, pool, `${ctx.at}.split.${pool}`, ctx.known);
    return { kind: "split", weights };
  }
  // The schema guarantees one of the two.
  const pool = route.pool ?? "";
  checkPool(p, pool, `${ctx.at}.pool`, ctx.known);
  return { kind: "pool", pool };
}

function checkPool(p: Problems, name: string, at: string, known: ReadonlySet<string>): void {
  if (!known.has(name)) {
    p.at(at, `no pool named "${name}" (expected one of ${[...known].join(", ")})`);
  }
}
