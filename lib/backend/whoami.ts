/**
 * The demo backend's "who am I and what did you send me" pages, after
 * traefik/whoami: `/` as text for people, `/api` as JSON for tests. Both
 * show the request as it arrived, so a test can see exactly what a proxy
 * forwarded.
 *
 * @module
 */

import { text } from "./responses.ts";

/** What the whoami pages describe: the request and the backend that got it. */
export interface WhoamiRequest {
  /** The request as `Deno.serve` handed it over. */
  readonly req: Request;
  /** Where the request came from. */
  readonly info: Deno.ServeHandlerInfo;
  /** `req.url`, parsed. */
  readonly url: URL;
  /** The backend's name. */
  readonly name: string;
}

/**
 * `/`: the request as text, like traefik/whoami: name, request line, client
 * address, then Host and the other headers (sorted, as Fetch yields them).
 */
export function whoamiText({ req, info, url, name }: WhoamiRequest): Response {
  const lines = [
    `Name: ${name}`,
    // Deno.serve does not expose the protocol version; plain-TCP clients speak HTTP/1.1.
    `${req.method} ${url.pathname}${url.search} HTTP/1.1`,
    `RemoteAddr: ${formatAddr(info.remoteAddr)}`,
  ];
  // Host first, where HTTP/1.1 clients put it.
  const host = req.headers.get("host");
  if (host !== null) lines.push(`Host: ${host}`);
  for (const [key, value] of req.headers) {
    if (key !== "host") lines.push(`${canonicalHeaderName(key)}: ${value}`);
  }
  return text(200, `${lines.join("\n")}\n`);
}

/**
 * `/api`: the request as JSON. Header names are the lower-case names Fetch
 * uses, so `headers["x-forwarded-for"]` works; Fetch joins repeated fields
 * with ", ", so each list has one entry.
 */
export function whoamiJson({ req, info, url, name }: WhoamiRequest): Response {
  const headers: Record<string, string[]> = {};
  for (const [key, value] of req.headers) headers[key] = [value];
  return Response.json({
    name,
    method: req.method,
    url: `${url.pathname}${url.search}`,
    host: req.headers.get("host") ?? url.host,
    remoteAddr: formatAddr(info.remoteAddr),
    headers,
  });
}

/** `ip:port`, with IPv6 in brackets as in URLs. */
function formatAddr(addr: Deno.Addr): string {
  if (!("hostname" in addr)) return "path" in addr ? addr.path : addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** `x-forwarded-for` -> `X-Forwarded-For`, the spelling people expect to read. */
function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}
