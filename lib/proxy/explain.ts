/**
 * The proxy's side of `X-LB-Explain`: whether a request asked for an
 * explanation with the admin token, and the reply that carries it. The
 * request field never goes upstream (`headers.ts` drops it, token or not:
 * the token is a secret); a wrong or missing token is ignored.
 *
 * @module
 */

import { Explain, renderExplain } from "../core/explain.ts";
import type { ProxyReply } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";
import { explainNoRoute, explainRoute } from "../routing/explain.ts";
import type { CompiledRoute, RouteRequest } from "../routing/router.ts";

/** The request and response field's name, lower case. */
export const EXPLAIN_FIELD = "x-lb-explain";

/**
 * Whether `given` is `token`, in time that depends only on the token's
 * length: every code unit of the token is compared (with a guess's, or 0
 * past its end) and the differences are OR-ed, with no early exit, so a
 * guess learns nothing from where it went wrong. A loop rather than
 * `timingSafeEqual`: encoding both to bytes for it costs microseconds, and
 * anyone may send the field.
 */
export function tokenMatches(given: string, token: string): boolean {
  let diff = given.length ^ token.length;
  for (let i = 0; i < token.length; i++) {
    diff |= token.charCodeAt(i) ^ (i < given.length ? given.charCodeAt(i) : 0);
  }
  return diff === 0;
}

/**
 * A new {@link Explain} when `headers` carry `X-LB-Explain: <token>`;
 * undefined otherwise (no field, a wrong token, or no token configured).
 * With several fields, the first decides.
 */
export function explainRequested(
  headers: HeaderPairs,
  token: string | undefined,
): Explain | undefined {
  if (token === undefined) return undefined;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] !== EXPLAIN_FIELD) continue;
    return tokenMatches(headers[i][1].trim(), token) ? new Explain() : undefined;
  }
  return undefined;
}

/** `reply` with the explanation as its one `X-LB-Explain` field (a backend's is replaced). */
export function explainedReply(reply: ProxyReply, explain: Explain): ProxyReply {
  explain.status = reply.status;
  const headers = reply.headers.filter((h) => h[0] !== EXPLAIN_FIELD);
  headers.push([EXPLAIN_FIELD, renderExplain(explain)]);
  return { ...reply, headers };
}

/** Why no route took the request: a hook named a route that is not there, or none matched. */
export function explainMiss(
  explain: Explain,
  routes: readonly CompiledRoute[],
  req: RouteRequest,
  forced: string | undefined,
): void {
  if (forced !== undefined) {
    explain.noRoute = `a hook asked for route ${forced}, which is not there`;
    return;
  }
  explain.noRoute = "no route matched";
  explain.route = { name: "none", why: [], skipped: explainNoRoute(routes, req) };
}

/** Why `chosen` took the request (or that a hook chose it), and the pool it gave. */
export function explainRouted(
  explain: Explain,
  routes: readonly CompiledRoute[],
  req: RouteRequest,
  chosen: CompiledRoute,
  how: { readonly pool: string; readonly strategy: string; readonly forced?: string },
): void {
  explain.route = how.forced === undefined
    ? explainRoute(routes, chosen, req)
    : { name: chosen.name, forced: true };
  explain.pool = how.pool;
  const target = chosen.config.target;
  if (target.kind === "split") explain.split = Object.fromEntries(target.weights);
  explain.strategy = how.strategy;
}
