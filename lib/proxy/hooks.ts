/**
 * The extension points of the proxy, in the spirit of Go's `ReverseProxy`
 * fields and Pingora's phases. Each is optional and has a default; an
 * absent hook costs one property check per request, nothing more. Hooks run
 * after the proxy's own safety rules (framing checks, hop-by-hop removal,
 * forwarding headers), so a hook can't undo them by accident.
 *
 * @module
 */

import type { PoolConfig } from "../config/types.ts";
import type { AccessRecord } from "../core/access_record.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { ProxyRequest } from "../core/message.ts";
import type { Strategy, StrategyOptions } from "../balancing/types.ts";

export type { AccessRecord };

/** What `onRequest` may decide: answer now, send to a named route, or carry on (undefined). */
export type RequestDecision = Response | { readonly route: string } | undefined;

/** Where a request is going, for the hooks after routing. */
export interface HookContext {
  /** The client's request as received (its `path` before the route's rewrite). */
  readonly request: ProxyRequest;
  /** The route's name. */
  readonly route: string;
  /** The pool's name. */
  readonly pool: string;
}

/** The request about to go upstream; `path` and `headers` may be changed in place. */
export interface UpstreamDraft {
  /** The client's method, sent as it is; not changeable. */
  readonly method: string;
  /** Origin-form target, after the route's prefix rewrite. */
  path: string;
  /** Already cleaned of hop-by-hop fields and with the forwarding fields set. */
  readonly headers: HeaderPairs;
}

/** The response about to go to the client; `status` and `headers` may be changed in place. */
export interface ResponseDraft {
  /** The backend's status code; set it to send another (the body stays the backend's). */
  status: number;
  /** Already cleaned of hop-by-hop fields; framing fields (`content-length`, `transfer-encoding`) are the front's and are ignored if set here. */
  readonly headers: HeaderPairs;
}

/** A failure about to be answered. */
export interface ErrorInfo {
  /** The status the proxy would answer with (400, 404, 502, 503, 504...). */
  readonly status: number;
  /** What was thrown, e.g. an `UpstreamError` (see its `kind`) or a hook's own exception. */
  readonly error: unknown;
  /** The client's request; a body nobody read has already been cancelled. */
  readonly request: ProxyRequest;
}

/** The hooks; every one is optional. */
export interface LbHooks {
  /**
   * Before routing. Return a `Response` to answer the request yourself
   * (auth checks, redirects), `{ route }` to choose the route by name
   * instead of matching, or undefined to route as configured. May be async.
   * Default: route as configured.
   */
  onRequest?(request: ProxyRequest): RequestDecision | Promise<RequestDecision>;
  /** Change the upstream request (path, headers) before it is sent. Default: as the proxy built it. */
  rewriteRequest?(draft: UpstreamDraft, ctx: HookContext): void;
  /**
   * A custom strategy for a pool: return one to use it instead of the
   * configured `strategy`, or undefined to keep that. Called when a
   * configuration generation is built (at start and on each reload).
   */
  strategy?(pool: PoolConfig, options: StrategyOptions): Strategy | undefined;
  /** Change a backend's response before the client gets it. Default: as the backend sent it. */
  modifyResponse?(draft: ResponseDraft, ctx: HookContext & { readonly backend: BackendSpec }): void;
  /** Shape an error answer: return a `Response`, or undefined for the proxy's own plain-text one. */
  errorResponse?(info: ErrorInfo): Response | undefined;
  /** Sees every access-log record (whether or not `--access-log` writes them). */
  onLog?(record: AccessRecord): void;
}
