/**
 * Errors of the proxy path mapped to client responses, in one place.
 * Bodies are short and name no internals (no backend addresses, no stack).
 *
 * @module
 */

import { QueueRejected } from "../resilience/limiter.ts";
import { ClientAbortError, type HeaderPairs, UpstreamError } from "../core/transport.ts";
import type { ProxyReply } from "../core/message.ts";

/** No healthy backend was available. */
export class NoBackendError extends Error {
  constructor() {
    super("no healthy backend");
    this.name = "NoBackendError";
  }
}

/** The client's request can't be proxied as sent. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** No route matched the request (or a hook named a route that doesn't exist). */
export class NoRouteError extends Error {
  /** `status`: `--no-route-status`, 404 by default. */
  constructor(readonly status: number, message = "no route matches the request") {
    super(message);
    this.name = "NoRouteError";
  }
}

/** The client stopped sending its request body for longer than `--client-body-timeout`. */
export class ClientTimeoutError extends Error {
  constructor(message = "request body timed out") {
    super(message);
    this.name = "ClientTimeoutError";
  }
}

/**
 * A tunnel's handshake answered on a route with policies: a policy's own
 * refusal (403, 401, 429...), or a failure (`failure`, e.g. an
 * `UpstreamError`) after the policies' response side (so it carries the
 * request ID). The reply is what the client gets.
 */
export class PolicyAnswer extends Error {
  constructor(readonly reply: ProxyReply, readonly failure?: unknown) {
    super(
      failure instanceof Error ? failure.message : `a policy answered ${reply.status}`,
    );
    this.name = "PolicyAnswer";
  }
}

/** Nginx's convention for "client closed request"; never actually sent. */
export const CLIENT_CLOSED_STATUS = 499;

/** The status a failure maps to. */
export function statusFor(err: unknown): number {
  if (err instanceof UpstreamError) {
    // No free connection in time: the lb is overloaded, like a full queue.
    if (err.kind === "pool_timeout") return 503;
    return err.kind === "connect_timeout" || err.kind === "response_timeout" ? 504 : 502;
  }
  if (err instanceof NoBackendError || err instanceof QueueRejected) return 503;
  if (err instanceof BadRequestError) return 400;
  if (err instanceof NoRouteError) return err.status;
  if (err instanceof ClientTimeoutError) return 408;
  if (err instanceof ClientAbortError) return CLIENT_CLOSED_STATUS;
  if (err instanceof PolicyAnswer) return err.reply.status;
  return 502;
}

const TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  410: "Gone",
  421: "Misdirected Request",
  500: "Internal Server Error",
  408: "Request Timeout",
  499: "Client Closed Request",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const encoder = new TextEncoder();
const CACHED = new Map<string, Uint8Array>();

/**
 * The reply for a failure, front-neutral. 503 carries `Retry-After` (RFC
 * 9110 §10.2.3). Bodies are cached by text: failures come in floods.
 */
export function errorReply(err: unknown, retryAfterSeconds: number): ProxyReply {
  if (err instanceof PolicyAnswer) return err.reply;
  const status = statusFor(err);
  const detail = err instanceof BadRequestError ? `: ${err.message}` : "";
  const text = `${TEXT[status] ?? "Error"}${detail}\n`;
  let body = CACHED.get(text);
  if (!body) {
    body = encoder.encode(text);
    if (CACHED.size < 256) CACHED.set(text, body);
  }
  const headers: HeaderPairs = [["content-type", "text/plain; charset=utf-8"]];
  if (status === 503) headers.push(["retry-after", String(retryAfterSeconds)]);
  return { status, headers, body, close: status === 400 || status === 408 };
}

/** The response for a failure, as {@link errorReply} but a `Response` for `Deno.serve`. */
export function errorResponse(err: unknown, retryAfterSeconds: number): Response {
  const reply = errorReply(err, retryAfterSeconds);
  return new Response(reply.body as BodyInit | null, {
    status: reply.status,
    headers: reply.headers,
  });
}
