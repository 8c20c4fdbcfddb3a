/**
 * Response heads for the h1 front (RFC 9112 §4, §6): the status line, the
 * fields the core chose, and framing this front decides itself. Pure.
 *
 * Framing fields from upstream (`Content-Length`, `Transfer-Encoding`) are
 * never copied blindly: the body this front sends is what sets them, so a
 * backend can't make the client read a different message than we send.
 *
 * @module
 */

import type { HeaderPairs } from "../../core/transport.ts";

/** How the body goes out. */
export type ReplyFraming =
  /** No body (HEAD, 1xx, 204, 304); a given length is still announced for HEAD and 304. */
  | "none"
  /** `Content-Length` bytes follow. */
  | "length"
  /** Chunked (HTTP/1.1 clients, length unknown). */
  | "chunked"
  /** The body runs until the connection closes (HTTP/1.0 clients, length unknown). */
  | "close";

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** Status lines by code, built once each. */
const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    // RFC 9112 §4: the reason phrase may be empty; clients must ignore it.
    line = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
    if (STATUS_LINES.size < 1000) STATUS_LINES.set(status, line);
  }
  return line;
}

/** Whether a response to `method` with `status` carries no body (RFC 9112 §6.3 rule 1). */
export function bodiless(method: string, status: number): boolean {
  return method === "HEAD" || status < 200 || status === 204 || status === 304;
}

/**
 * The head as a string (one char per byte; values may hold latin1 obs-text).
 * `length` is the body's length for `"length"` framing, or for `"none"` the
 * length a HEAD or 304 answer announces (undefined: none). `connection` is
 * the `Connection` value to send, if any: `close`, or `keep-alive` for an
 * HTTP/1.0 client whose connection stays open (RFC 9112 §9.3: without it
 * such a client assumes the server closes).
 */
export function responseHead(
  status: number,
  fields: HeaderPairs,
  framing: ReplyFraming,
  length: number | undefined,
  connection: "close" | "keep-alive" | undefined,
): string {
  let head = statusLine(status);
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i][0];
    // Framing is ours to set (below); the core already removed hop-by-hop fields.
    if (name === "content-length" || name === "transfer-encoding") continue;
    head += name + ": " + fields[i][1] + "\r\n";
  }
  if (framing === "length" || (framing === "none" && length !== undefined && status !== 204)) {
    head += "content-length: " + length + "\r\n";
  } else if (framing === "chunked") {
    head += "transfer-encoding: chunked\r\n";
  }
  if (connection !== undefined) head += "connection: " + connection + "\r\n";
  return head + "\r\n";
}

/** The `Content-Length` value among `fields`, if any and valid. */
export function declaredLength(fields: HeaderPairs): number | undefined {
  for (let i = 0; i < fields.length; i++) {
    if (fields[i][0] !== "content-length") continue;
    const n = Number(fields[i][1]);
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }
  return undefined;
}
