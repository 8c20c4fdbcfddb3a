/**
 * A policy exchange for unit tests of a single policy: a bodiless request
 * from a loopback-free documentation address, with whatever a test sets.
 *
 * @module
 */

import type { HeaderPairs } from "../../lib/core/transport.ts";
import type { PolicyExchange } from "../../lib/policy/types.ts";

/** What a test may set; the rest is a plain `GET /` to `site.test`. */
export interface ExchangeOptions {
  readonly method?: string;
  /** The client's fields. */
  readonly headers?: HeaderPairs;
  /** The upstream request's fields ([] by default). */
  readonly upstreamHeaders?: HeaderPairs;
  readonly clientIp?: string;
  readonly trustedPeer?: boolean;
  readonly route?: string;
  readonly pool?: string;
}

/** A fresh exchange for `o`. */
export function fakeExchange(o: ExchangeOptions = {}): PolicyExchange {
  const clientIp = o.clientIp ?? "192.0.2.1";
  return {
    request: {
      method: o.method ?? "GET",
      path: "/",
      host: "site.test",
      headers: o.headers ?? [],
      body: null,
      contentLength: undefined,
      signal: new AbortController().signal,
      clientIp,
    },
    route: o.route ?? "r",
    pool: o.pool ?? "p",
    upstreamHeaders: o.upstreamHeaders ?? [],
    trustedPeer: o.trustedPeer ?? false,
    clientIp,
    state: new Map(),
  };
}
