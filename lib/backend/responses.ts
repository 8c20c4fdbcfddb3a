/**
 * Small response builders the demo backend's routes share: plain text, 400
 * with a message, and replacing a finished response's status.
 *
 * @module
 */

/** Statuses whose responses never carry a body (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** A `text/plain; charset=utf-8` response. */
export function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** 400 Bad Request whose body is `message`, which names what was wrong, as one line. */
export function badRequest(message: string): Response {
  return text(400, `${message}\n`);
}

/** Replaces a response's status, dropping the body where the status forbids one. */
export function withStatus(res: Response, status: number): Response {
  if (!NULL_BODY_STATUSES.has(status)) {
    return new Response(res.body, { status, headers: res.headers });
  }
  // Release whatever the body holds (a generator, or the request body for /echo).
  res.body?.cancel().catch(() => {});
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(null, { status, headers });
}
