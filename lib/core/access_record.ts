/**
 * What an access-log line is made from: the {@link AccessRecord} of one
 * request, and the names of its fields as the log formats (and
 * `--access-log-fields`, `--access-log-template`) spell them. At the bottom
 * of the layers so the config can check names and the proxy, the policies
 * and the formats share one record.
 *
 * @module
 */

import type { ExplainRecord } from "./explain.ts";

/** One access-log record: what happened to one request. */
export interface AccessRecord {
  /** The client's method. */
  readonly method: string;
  /** The client's origin-form target (path and query), before any route rewrite. */
  readonly path: string;
  /** The status sent to the client; 499 when it went away before the answer. */
  readonly status: number;
  /** The route's name, or `none` when no route matched. */
  readonly route: string;
  /** The pool's name, or `none`. */
  readonly pool: string;
  /** The backend's origin, or `none` when no backend answered. */
  readonly backend: string;
  /** Time to response headers... and body delivered (monotonic ms, one decimal). */
  readonly durationMs: number;
  /** Body bytes sent to the client. */
  readonly bytes: number;
  /** The client's IP address (after PROXY protocol, when used), without brackets. */
  readonly client: string;
  /** The request's ID, when the route has `policies.request-id`. */
  readonly requestId?: string;
  /** Who an auth policy let through, when one did. */
  readonly user?: string;
  /** Wall-clock time the reply was delivered or abandoned (ms since the Unix epoch). */
  readonly time: number;
  /** The request's protocol as a request line names it: `HTTP/1.1`, `HTTP/1.0` or `HTTP/2.0`. */
  readonly protocol: string;
  /** The authority the client asked for (`Host`, or HTTP/2's `:authority`); empty when none. */
  readonly host: string;
  /** The `User-Agent` field (the first, when repeated); absent when not sent. */
  readonly userAgent?: string;
  /** The `Referer` field (the first, when repeated); absent when not sent. */
  readonly referer?: string;
  /** What the lb decided and why, for a request that asked with `X-LB-Explain` (`core/explain.ts`). */
  readonly explain?: ExplainRecord;
}

/**
 * Every field a format can name, with what it holds: the keys of
 * `--access-log-fields` and the variables of `--access-log-template`.
 */
export const ACCESS_FIELDS = {
  time: "when the reply was done, ISO 8601 in UTC with milliseconds",
  time_local:
    "the same in the local time zone, as NGINX's $time_local (02/Dec/2026:06:01:22 +0000)",
  client: "the client's address (the peer's, or the PROXY protocol's)",
  user: "who an auth policy let through",
  method: "the request method",
  path: "the request target as the client sent it (path and query)",
  protocol: "HTTP/1.0, HTTP/1.1 or HTTP/2.0",
  request: "the request line: method, path and protocol",
  status: "the status sent (499: the client left first)",
  bytes: "body bytes sent to the client",
  duration_ms: "milliseconds from the request's arrival to its reply delivered, one decimal",
  host: "the Host (or :authority) the client asked for",
  referer: "the Referer field",
  user_agent: "the User-Agent field",
  route: "the route's name (none when no route matched)",
  pool: "the pool's name",
  backend: "the backend that answered (none when none did)",
  request_id: "the request ID (policies.request-id)",
  explain: "what the lb decided and why (X-LB-Explain with the admin token), as JSON",
} as const;

/** A field name of {@link ACCESS_FIELDS}. */
export type AccessField = keyof typeof ACCESS_FIELDS;

/** The field names, in their documented order. */
export const ACCESS_FIELD_NAMES: readonly AccessField[] = Object.keys(
  ACCESS_FIELDS,
) as AccessField[];

/**
 * The JSON lines' fields by default: every one but the two that repeat
 * others, and `explain`, which a JSON line has whenever its record does.
 */
export const DEFAULT_JSON_FIELDS: readonly AccessField[] = ACCESS_FIELD_NAMES.filter((f) =>
  f !== "time_local" && f !== "request" && f !== "explain"
);

/** The formats of `--access-log-format`. */
export const ACCESS_LOG_FORMATS = ["log", "json", "combined", "common", "template"] as const;
/** One of {@link ACCESS_LOG_FORMATS}. */
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];
