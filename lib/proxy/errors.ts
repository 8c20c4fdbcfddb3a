/**
 * Errors of the proxy path mapped to client responses, in one place.
 * Bodies are short and name no internals (no backend addresses, no stack).
 *
 * @module
 */

import { QueueRejected } from "../resilience/limiter.ts";
import { ClientAbortError, UpstreamError } from "../transport/types.ts";

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

/** Nginx's convention for "client closed request"; never actually sent. */
export const CLIENT_CLOSED_STATUS = 499;

/** The status a failure maps to. */
export function statusFor(err: unknown): number {
  if (err instanceof UpstreamError) {
    return err.kind === "connect_timeout" || err.kind === "response_timeout" ? 504 : 502;
  }
  if (err instanceof NoBackendError || err instanceof QueueRejected) return 503;
  if (err instanceof BadRequestError) return 400;
  if (err instanceof ClientAbortError) return CLIENT_CLOSED_STATUS;
  return 502;
}

const TEXT: Record<number, string> = {
  400: "Bad Request",
  499: "Client Closed Request",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The response for a failure. 503 carries `Retry-After` (RFC 9110 §10.2.3). */
export function errorResponse(err: unknown, retryAfterSeconds: number): Response {
  const status = statusFor(err);
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
  if (status === 503) headers.set("retry-after", String(retryAfterSeconds));
  const detail = err instanceof BadRequestError ? `: ${err.message}` : "";
  return new Response(`${TEXT[status]}${detail}\n`, { status, headers });
}
