/**
 * The result of parsing a request head on the h1 front: {@link RequestHead}
 * and its {@link RequestFraming}. Types only, in a leaf module, so the
 * request-line parser, the field rules and the body reader
 * (`request_body.ts`) can all name them without importing the parser.
 *
 * @module
 */

import type { HeaderPairs } from "../../core/transport.ts";

/** How the request's content is delimited (RFC 9112 §6.3 rules 3-7). */
export type RequestFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

/** A parsed, validated request head. */
export interface RequestHead {
  /** A token, case kept (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** The request-target's form (RFC 9112 §3.2). */
  readonly form: "origin" | "absolute" | "authority" | "asterisk";
  /**
   * What goes upstream: origin-form path and query. For absolute-form, the
   * path+query of the URI ("/" when empty); for asterisk "*"; for
   * authority-form the target itself.
   */
  readonly path: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  /** Field lines in order: lower-cased names, values trimmed of SP/HTAB; obs-text bytes as latin1 chars. */
  readonly fields: HeaderPairs;
  /** The Host field value, or null when absent (HTTP/1.0 may omit it). */
  readonly host: string | null;
  /** How the content is delimited; "none" without Content-Length or Transfer-Encoding. */
  readonly framing: RequestFraming;
  /** Whether the client allows another request on this connection (RFC 9112 §9.3: 1.1 unless `close`; 1.0 only with `keep-alive`). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` (case-insensitive) on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
  /** The `Upgrade` value when `Connection` lists `upgrade` (HTTP/1.1 only), else undefined. */
  readonly upgrade: string | undefined;
}
