/**
 * The `Deno.serve` front: adapts `Request`/`Response` to the proxy core's
 * neutral messages. It is what TLS clients get (HTTP/2 by ALPN needs
 * `Deno.serve`) and what `--front deno-serve` gives plain HTTP. WebSocket
 * upgrades go to the message-relaying tunnel of `proxy/websocket.ts`, since
 * `Deno.serve` offers no raw socket after a 101.
 *
 * `Deno.serve` has no request-head, idle or body timeout and no connection
 * cap (denoland/deno#3515); see the README for what that means on the TLS
 * listener.
 *
 * @module
 */

import type { ProxyCore } from "../proxy/handler.ts";
import type { ProxyRequest } from "../core/message.ts";
import { isWebSocketUpgrade, proxyWebSocket, type WebSocketDeps } from "../proxy/websocket.ts";
import type { HeaderPairs } from "../core/transport.ts";
import { headerPairs } from "../proxy/headers.ts";

/** What the `Deno.serve` front needs besides the core. */
export interface DenoServeFrontOptions {
  /** The core in force; a reload swaps it, requests in flight keep theirs. */
  readonly core: () => ProxyCore;
  readonly proto: "http" | "https";
  /** WebSocket tunnelling: its limits, the handshake timeout, the open tunnels. */
  readonly websocket: WebSocketDeps;
}

/** A `Deno.serve` handler that proxies through the core. */
export type ServeHandler = (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;

/** Creates the handler. */
export function denoServeHandler(options: DenoServeFrontOptions): ServeHandler {
  const { proto } = options;
  return async function serve(req, info) {
    const core = options.core();
    const headers = headerPairs(req.headers);
    const request: ProxyRequest = {
      method: req.method,
      path: originForm(req.url),
      host: requestHost(req, headers, proto),
      headers,
      body: req.body,
      contentLength: contentLength(headers),
      signal: req.signal,
      clientIp: (info.remoteAddr as Deno.NetAddr).hostname,
    };
    // Upgrades bypass the HTTP path: a tunnel is not a request/response exchange.
    if (isWebSocketUpgrade(req)) return proxyWebSocket(core, options.websocket, req, request);
    const exchange = await core.handle(request);
    const reply = exchange.reply;
    let body = reply.body;
    if (body === null || body instanceof Uint8Array) {
      // In memory is as good as delivered: nothing keeps the backend busy.
      exchange.finish(body === null ? 0 : body.length);
    } else {
      // A streamed body keeps the request (and its backend) busy until the client has it all.
      let bytes = 0;
      if (core.countsBytes) body = body.pipeThrough(counter((n) => bytes += n));
      info.completed.finally(() => exchange.finish(bytes)).catch(() => {});
    }
    return new Response(body as BodyInit | null, { status: reply.status, headers: reply.headers });
  };
}

function contentLength(headers: HeaderPairs): number | undefined {
  for (let i = 0; i < headers.length; i++) {
    // Deno.serve has already rejected malformed or conflicting values.
    if (headers[i][0] === "content-length") return Number(headers[i][1]);
  }
  return undefined;
}

/**
 * The request's authority: the authority `Deno.serve` put in `req.url`,
 * which is the Host field for an origin-form request and the target's for
 * an absolute-form one (RFC 9112 §3.2.2: that one wins over Host). HTTP/2
 * requests have no `Host` header, only `:authority`, folded into `req.url`
 * too; but `Deno.serve` makes up a `localhost:PORT` URL for an HTTP/1.1
 * request lacking Host, so the two can't be told apart. On the TLS
 * listener, where ALPN negotiates HTTP/2, the URL's authority is taken; on
 * the plain one (HTTP/1.1, or h2c with prior knowledge) a missing Host
 * stays an error.
 */
function requestHost(req: Request, headers: HeaderPairs, proto: "http" | "https"): string | null {
  let hasHost = false;
  for (let i = 0; i < headers.length && !hasHost; i++) hasHost = headers[i][0] === "host";
  if (!hasHost && proto === "http") return null;
  const start = req.url.indexOf("://") + 3;
  const end = req.url.indexOf("/", start);
  return req.url.slice(start, end === -1 ? undefined : end);
}

/**
 * The origin-form target (RFC 9112 §3.2.1) of a request URL. For an
 * absolute-form request (`GET http://elsewhere/ HTTP/1.1`) Deno puts the
 * client's authority in `req.url`; only the path and query are kept, so the
 * target can never choose where the request goes.
 */
export function originForm(url: string): string {
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  return slash === -1 ? "/" : url.slice(slash);
}

/** A pass-through stream that reports the bytes it carries. */
function counter(add: (n: number) => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      add(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
}
