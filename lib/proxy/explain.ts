/**
 * The proxy's side of `X-LB-Explain`: whether a request asked for an
 * explanation with the admin token, and the reply that carries it. The
 * request field never goes upstream (`headers.ts` drops it, token or not:
 * the token is a secret); a wrong or missing token is ignored.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { Explain, renderExplain } from "../core/explain.ts";
import type { ProxyReply } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";

/** The request and response field's name, lower case. */
export const EXPLAIN_FIELD = "x-lb-explain";

const encoder = new TextEncoder();

/**
 * Whether `given` is `token`, in time that depends only on their lengths:
 * the bytes are compared with `timingSafeEqual`, and unequal lengths
 * compare `token` with itself, so a guess learns nothing from the timing of
 * where it went wrong.
 */
export function tokenMatches(given: string, token: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(token);
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
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
