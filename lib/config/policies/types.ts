/**
 * The edge policies' configuration, as parsed: one optional entry per
 * policy. The file's top-level `policies` is the default for every route; a
 * route's own `policies.<name>` replaces that entry whole, and `false`
 * turns it off for the route. A policy absent here costs nothing per
 * request.
 *
 * @module
 */

import type { Cidr } from "../../core/cidr.ts";

/** `policies.ip`: client addresses allowed and denied (CIDRs, IPv4 and IPv6). */
export interface IpRulesConfig {
  /** When given, only these addresses pass. */
  readonly allow?: readonly Cidr[];
  /** These never pass, even when allowed. */
  readonly deny: readonly Cidr[];
}

/** A header rule's value: text with `${client_ip}`, `${request_id}`, `${route}`, `${pool}`, `${backend}`. */
export type HeaderTemplate = string;

/** Set, add and remove fields of one message. */
export interface HeaderEdits {
  /** Field -> value, replacing every field of that name. */
  readonly set: readonly (readonly [string, HeaderTemplate])[];
  /** Field -> value, appended. */
  readonly add: readonly (readonly [string, HeaderTemplate])[];
  /** Fields removed, lower-case. */
  readonly remove: readonly string[];
}

/** `policies.headers`: rules for the upstream request and the client's response. */
export interface HeaderRulesConfig {
  /** Edits to the request sent upstream. */
  readonly request?: HeaderEdits;
  /** Edits to the response sent to the client. */
  readonly response?: HeaderEdits;
}

/** `policies.request-id`. */
export interface RequestIdConfig {
  /** The field, lower-case (`x-request-id`). */
  readonly header: string;
  /** Keep a well-formed ID sent by a peer in `--trust-proxy`; otherwise always generate. */
  readonly trustIncoming: boolean;
  /** Send it back to the client on the response. */
  readonly echo: boolean;
}

/** `policies.retry`: retries on answers (as opposed to failures to get one). */
export interface RetryOnConfig {
  /** Statuses that send an idempotent request to another backend, within the retry budget. */
  readonly onStatus: ReadonlySet<number>;
}

/** One part of a rate limit's key. */
export type RateKeyPart =
  | { readonly kind: "ip" }
  | { readonly kind: "route" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/** Which replies carry the `RateLimit` and `RateLimit-Policy` fields. */
export type RateHeaders = "always" | "denied" | "never";

/** `policies.rate-limit`: token buckets. */
export interface RateLimitConfig {
  /**
   * The policy's name in headers, metrics and store keys; the route's name
   * by default. Routes whose rate limits share a name share their buckets.
   */
  readonly name: string;
  /** The key: the parts joined; a request missing a header or cookie part shares the empty value. */
  readonly key: readonly RateKeyPart[];
  /** Tokens added per `periodMs`. */
  readonly limit: number;
  /** The refill period, ms: whole seconds, as `RateLimit-Policy`'s `w` has no finer unit. */
  readonly periodMs: number;
  /** Bucket size: requests allowed at once after a quiet spell. */
  readonly burst: number;
  /** Most keys kept (least recently used go first). */
  readonly maxKeys: number;
  /** Which replies carry the IETF fields (`Retry-After` is always on a 429). */
  readonly headers: RateHeaders;
  /** Shared store; local buckets when absent. */
  readonly store?: RateStoreConfig;
}

/** Where rate-limit buckets are shared between replicas (Redis). */
export interface RateStoreConfig {
  /** `redis://[[user]:password@]host[:port][/db]`, as written. */
  readonly url: string;
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port (6379). */
  readonly port: number;
  /** The database SELECTed after connecting (0). */
  readonly db: number;
  /** `AUTH` on connect, when given: the user (Redis 6 ACLs)... */
  readonly username?: string;
  /** ...and the password. */
  readonly password?: string;
  /** Prepended to every bucket's key (`lb:rl:`). */
  readonly prefix: string;
  /** A check slower than this counts as a store failure, and the request does not wait longer. */
  readonly timeoutMs: number;
  /**
   * When the store can't answer (error, timeout, circuit open): `open` lets
   * the local bucket decide; `closed` answers 503.
   */
  readonly onError: "open" | "closed";
  /** Consecutive failures that open the circuit. */
  readonly failures: number;
  /** How long an open circuit sends nothing to the store before one probe. */
  readonly coolDownMs: number;
}

/** `policies.basic-auth`. */
export interface BasicAuthConfig {
  /** The realm in `WWW-Authenticate` (visible ASCII). */
  readonly realm: string;
  /** User -> bcrypt hash (`$2a$`, `$2b$`, `$2y$`), from `users` and the `htpasswd` file together. */
  readonly users: ReadonlyMap<string, string>;
  /** The htpasswd file as written, when one was given (read when the config is loaded, so on every reload). */
  readonly htpasswd?: string;
  /** Remove `Authorization` before the request goes upstream. */
  readonly strip: boolean;
  /** How long a verified user and password are remembered, ms; 0 turns the cache off. */
  readonly cacheTtlMs: number;
  /** Most verifications remembered (least recently used go first). */
  readonly cacheSize: number;
  /** Password checks that may wait for this thread's bcrypt worker; past it, 503. */
  readonly maxPending: number;
}

/** `policies.forward-auth`. */
export interface ForwardAuthConfig {
  /** The auth service's URL (`http://` or `https://`); the request's method, URI and fields go with it. */
  readonly url: string;
  /** Fields of the client request sent to the auth service, lower-case (all but hop-by-hop and framing when absent). */
  readonly requestHeaders?: readonly string[];
  /** Fields of a 2xx auth answer copied onto the upstream request, lower-case; the client's own are removed. */
  readonly copyHeaders: readonly string[];
  /** A field of a 2xx auth answer naming the user, for the access log. */
  readonly userHeader?: string;
  /** The auth service must have answered whole (head and body) within this. */
  readonly timeoutMs: number;
  /** What the client gets when the auth service fails, times out or answers too much. */
  readonly onErrorStatus: 401 | 403 | 503;
  /** The most body bytes of an auth answer read (and relayed on a denial). */
  readonly maxBodyBytes: number;
}

/** A content coding the compression policy applies (RFC 9110 §8.4.1, RFC 7932, RFC 8878). */
export type ContentCoding = "br" | "zstd" | "gzip";

/** `policies.compression`. */
export interface CompressionConfig {
  /** In the server's order of preference; the client's `Accept-Encoding` q-values decide among them. */
  readonly encodings: readonly ContentCoding[];
  /** Media types compressed (`text/*` allowed), lower-case, without parameters. */
  readonly types: readonly string[];
  /** Bodies shorter than this (when their length is known) go as they are. */
  readonly minBytes: number;
  /** Effort per coding: gzip 1-9, br 0-11, zstd 1-19. */
  readonly levels: { readonly [C in ContentCoding]: number };
  /** Streamed compressions that may run at once in one thread; past it, replies go as they are. */
  readonly maxStreams: number;
}

/** Whose incoming `traceparent` a route continues: any client's, `--trust-proxy` peers' only, or nobody's. */
export type TraceFollow = "any" | "trusted" | "never";

/** Where spans go (the `--otlp-*` options): one exporter per thread serves every route. */
export interface OtlpExportConfig {
  /** The OTLP/HTTP base URL (`--otlp-endpoint`), without a trailing slash. */
  readonly endpoint: string;
  /** Where batches are posted: the base URL and `/v1/traces`. */
  readonly url: string;
  /** Fields sent with every export (`--otlp-headers`), lower-case names. */
  readonly headers: readonly (readonly [string, string])[];
  /** The `service.name` resource attribute (`--otlp-service-name`). */
  readonly serviceName: string;
  /** Most ended spans waiting for export; more are dropped and counted (`--otlp-queue-size`). */
  readonly queueSize: number;
  /** Most spans in one export request (`--otlp-batch-size`, at most the queue size). */
  readonly batchSize: number;
  /** Longest wait before a partial batch goes (`--otlp-interval`), ms. */
  readonly intervalMs: number;
  /** An export request that takes longer fails (`--otlp-timeout`), ms. */
  readonly timeoutMs: number;
}

/** `policies.tracing`: W3C trace context and spans. */
export interface TracingConfig {
  /** The share of new traces sampled, 0-1 (a followed parent's sampled flag decides for its requests). */
  readonly sample: number;
  /** Whose incoming trace context is continued. */
  readonly follow: TraceFollow;
  /** The exporter; set from the `--otlp-*` options once the routes are read (absent: tracing off). */
  readonly export?: OtlpExportConfig;
}

/** `policies.access-log`. */
export interface RouteAccessLogConfig {
  /** Whether this route's requests are logged. */
  readonly enabled: boolean;
}

/** The policies of one route (or the defaults), each optional. */
export interface PolicySet {
  /** `request-id`. */
  readonly requestId?: RequestIdConfig;
  /** `tracing`. */
  readonly tracing?: TracingConfig;
  /** `ip`. */
  readonly ip?: IpRulesConfig;
  /** `rate-limit`. */
  readonly rateLimit?: RateLimitConfig;
  /** `basic-auth`. */
  readonly basicAuth?: BasicAuthConfig;
  /** `forward-auth`. */
  readonly forwardAuth?: ForwardAuthConfig;
  /** `headers`. */
  readonly headers?: HeaderRulesConfig;
  /** `retry`. */
  readonly retry?: RetryOnConfig;
  /** `compression`. */
  readonly compression?: CompressionConfig;
  /** `access-log`. */
  readonly accessLog?: RouteAccessLogConfig;
}
