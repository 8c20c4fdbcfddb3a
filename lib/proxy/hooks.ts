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
import type { BackendSpec } from "../core/backend_spec.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { ProxyRequest } from "../core/message.ts";
import type { Strategy, StrategyOptions } from "../balancing/types.ts";

/** What `onRequest` may decide: answer now, send to a named route, or carry on (undefined). */
export type RequestDecision = Response | { readonly route: string } | undefined;

/** Where a request is going, for the hooks after routing. */
export interface HookContext {
  readonly request: ProxyRequest;
  /** The route's name. */
  readonly route: string;
  /** The pool's name. */
  readonly pool: string;
}

/** The request about to go upstream; `path` and `headers` may be changed in place. */
export interface UpstreamDraft {
  readonly method: string;
  /** Origin-form target, after the route's prefix rewrite. */
  path: string;
  /** Already cleaned of hop-by-hop fields and with the forwarding fields set. */
  readonly headers: HeaderPairs;
}

/** The response about to go to the client; `status` and `headers` may be changed in place. */
export interface ResponseDraft {
  status: number;
  /** Already cleaned of hop-by-hop fields; framing fields (`content-length`, `transfer-encoding`) are the front's and are ignored if set here. */
  readonly headers: HeaderPairs;
}

/** A failure about to be answered. */
export interface ErrorInfo {
  /** The status the proxy would answer with (400, 404, 502, 503, 504…). */
  readonly status: number;
  readonly error: unknown;
  readonly request: ProxyRequest;
}

/** One access-log record: what happened to one request. */
export interface AccessRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The route's name, or `none` when no route matched. */
  readonly route: string;
  /** The pool's name, or `none`. */
  readonly pool: string;
  /** The backend's origin, or `none` when no backend answered. */
  readonly backend: string;
  /** Time to response headers… and body delivered (monotonic ms, one decimal). */
  readonly durationMs: number;
  /** Body bytes sent to the client. */
  readonly bytes: number;
  readonly client: string;
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
