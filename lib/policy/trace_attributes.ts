/**
 * Span attributes after the OpenTelemetry HTTP semantic conventions
 * (`http.request.method`, `url.path`, `server.address`, `client.address`,
 * `http.response.status_code`, `error.type`...), plus the lb's own under
 * `lb.*` (route, pool, backend, attempt, request id). The query string is
 * left out: it often carries tokens, and the conventions allow dropping it.
 *
 * @module
 */

import type { Attributes } from "@opentelemetry/api";
import { headerValue, UpstreamError } from "../core/transport.ts";
import type { SpanRecord } from "./trace_span.ts";
import type { PolicyExchange } from "./types.ts";

/** The methods the conventions name; any other is `_OTHER` with the original kept beside it. */
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
]);

/** `host[:port]` (IPv6 in brackets) as address and port; the port is absent when not given. */
export function splitAuthority(host: string): { address: string; port?: number } {
  const close = host.startsWith("[") ? host.indexOf("]") : -1;
  const colon = close >= 0 ? host.indexOf(":", close) : host.lastIndexOf(":");
  if (colon < 0 || (close < 0 && host.indexOf(":") !== colon)) {
    return { address: close >= 0 ? host.slice(1, close) : host };
  }
  const port = Number(host.slice(colon + 1));
  const address = close >= 0 ? host.slice(1, close) : host.slice(0, colon);
  return Number.isInteger(port) && port > 0 && port < 65536 ? { address, port } : { address };
}

/** The server span's attributes known when the request arrives. */
export function requestAttributes(x: PolicyExchange): Attributes {
  const req = x.request;
  const known = KNOWN_METHODS.has(req.method);
  const query = req.path.indexOf("?");
  const out: Attributes = {
    "http.request.method": known ? req.method : "_OTHER",
    "url.path": query < 0 ? req.path : req.path.slice(0, query),
    "client.address": x.clientIp,
    "network.peer.address": req.clientIp,
    "lb.route": x.route,
    "lb.pool": x.pool,
  };
  if (!known) out["http.request.method_original"] = req.method;
  if (req.host) {
    const { address, port } = splitAuthority(req.host);
    out["server.address"] = address;
    if (port !== undefined) out["server.port"] = port;
  }
  if (req.protocol?.startsWith("HTTP/")) out["network.protocol.version"] = req.protocol.slice(5);
  const agent = headerValue(req.headers, "user-agent");
  if (agent !== undefined) out["user_agent.original"] = agent;
  if (x.requestId !== undefined) out["lb.request_id"] = x.requestId;
  return out;
}

/** What the server span learns at the end: status, body size, the backend that answered. */
export function serverEnd(span: SpanRecord, x: PolicyExchange, status: number, bytes: number) {
  const a = span.attributes;
  a["http.response.status_code"] = status;
  a["http.response.body.size"] = bytes;
  if (x.backend !== undefined) a["lb.backend"] = x.backend;
  if (status >= 500) a["error.type"] = String(status);
}

/**
 * An attempt's outcome on its span: the status (4xx and 5xx are errors for
 * a client span), or the failure's kind (`connect_refused`, `timeout`...) as
 * `error.type`. Returns the error message for the span status, if any.
 */
export function attemptEnd(
  span: SpanRecord,
  status: number | undefined,
  error: unknown,
): string | undefined {
  const a = span.attributes;
  if (status !== undefined) {
    a["http.response.status_code"] = status;
    if (status < 400) return undefined;
    a["error.type"] = String(status);
    return `answered ${status}`;
  }
  a["error.type"] = error instanceof UpstreamError
    ? error.kind
    : error instanceof Error
    ? error.name
    : "_OTHER";
  return error instanceof Error ? error.message : String(error);
}
