/**
 * The demo backend's request handler: traefik/whoami-style "who am I and
 * what did you send me" pages plus httpbin-style endpoints (sized bodies,
 * echo, server-sent events, gzip, cookies, redirects, delays, statuses) for
 * exercising a load balancer end to end.
 *
 * Every body that can be large is streamed, never built in memory, so the
 * backend can push or reflect gigabytes with bounded memory.
 *
 * This module is the routing; the pages and bodies live beside it
 * (`whoami.ts`, `bodies.ts`), as do query parsing (`params.ts`) and the
 * response helpers (`responses.ts`).
 *
 * @module
 */

import {
  DATA_CHUNK_SIZE,
  dataPattern,
  dataStream,
  eventStream,
  GZIP_TEXT,
  gzipBody,
} from "./bodies.ts";
import { durationParam, integerParam, sleep, statusParam } from "./params.ts";
import { badRequest, text, withStatus } from "./responses.ts";
import { whoamiJson, whoamiText } from "./whoami.ts";

// Re-exported so this module stays the backend's one entry point.
export { DATA_CHUNK_SIZE, dataPattern, GZIP_TEXT };

/** Options for {@link createBackendHandler}. */
export interface BackendHandlerOptions {
  /** Reported in `X-Backend-Name`, `/`, `/api` and `/stream` events. */
  readonly name: string;
  /** Clock for event timestamps, in epoch milliseconds; `Date.now` by default. */
  readonly now?: () => number;
}

/** The handler plus the one piece of runtime state it owns. */
export interface BackendApp {
  /** Pass to `Deno.serve`. */
  readonly handler: Deno.ServeHandler;
  /** Makes `/readyz` answer 503 from now on, so balancers stop sending new work. */
  setShuttingDown(): void;
  /** Whether {@link BackendApp.setShuttingDown} has been called. */
  readonly shuttingDown: boolean;
}

/** Largest `/data?size=`: 1 GiB. */
export const MAX_DATA_SIZE = 1024 ** 3;
/** Largest `/stream?count=`. */
export const MAX_EVENTS = 100_000;

/**
 * Creates the backend's handler. The response to every request carries
 * `X-Backend-Name`, so a client behind a balancer can tell who answered.
 */
export function createBackendHandler(options: BackendHandlerOptions): BackendApp {
  const { name } = options;
  const now = options.now ?? Date.now;
  let shuttingDown = false;
  const handler = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const res = await respond({ req, info, url: new URL(req.url), name, now, shuttingDown });
    res.headers.set("x-backend-name", name);
    return res;
  };
  return {
    handler,
    setShuttingDown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
  };
}

interface Context {
  readonly req: Request;
  readonly info: Deno.ServeHandlerInfo;
  readonly url: URL;
  readonly name: string;
  readonly now: () => number;
  readonly shuttingDown: boolean;
}

type Route = (ctx: Context) => Response | Promise<Response>;

const ROUTES: Readonly<Record<string, Route>> = {
  "/": whoamiText,
  "/api": whoamiJson,
  "/livez": () => text(200, "ok"),
  "/healthz": () => text(200, "ok"),
  "/readyz": (ctx) => ctx.shuttingDown ? text(503, "shutting down") : text(200, "ready"),
  "/data": data,
  "/echo": echo,
  "/stream": events,
  "/gzip": gzip,
  "/cookies": cookies,
  "/redirect": redirect,
  "/ws": webSocket,
};

function findRoute(path: string): Route | undefined {
  if (Object.hasOwn(ROUTES, path)) return ROUTES[path];
  // /api/<anything> too, so proxy tests can check that any path arrives intact.
  if (path.startsWith("/api/")) return whoamiJson;
  return undefined;
}

async function respond(ctx: Context): Promise<Response> {
  const query = ctx.url.searchParams;
  const waitMs = durationParam(query, "wait", "0");
  if (typeof waitMs === "string") return badRequest(waitMs);
  const status = statusParam(query);
  if (typeof status === "string") return badRequest(status);
  if (waitMs > 0 && !(await sleep(waitMs, ctx.req.signal))) {
    // The client went away; nobody will read this, but the handler must return something.
    return new Response(null, { status: 499 });
  }
  const route = findRoute(ctx.url.pathname);
  if (route === undefined && status === undefined) {
    return text(404, `not found: ${ctx.url.pathname}\n`);
  }
  // `/anything?status=N` is how tests make a backend fail on demand.
  const res = route === undefined ? text(200, `status ${status}\n`) : await route(ctx);
  // HEAD needs nothing here: Deno.serve already drops HEAD bodies and keeps
  // the Content-Length the GET would have had.
  return status === undefined ? res : withStatus(res, status);
}

/** `/data?size=N`: N bytes of {@link dataPattern}, streamed in {@link DATA_CHUNK_SIZE} chunks. */
function data({ url }: Context): Response {
  const size = integerParam(url.searchParams, "size", 1024, MAX_DATA_SIZE);
  if (typeof size === "string") return badRequest(size);
  return new Response(dataStream(size), {
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
  });
}

/**
 * `/echo`: the request body stream is the response body stream, so bytes go
 * back as they arrive and memory stays bounded whatever the upload size.
 */
function echo({ req }: Context): Response {
  const headers = new Headers();
  const type = req.headers.get("content-type");
  if (type !== null) headers.set("content-type", type);
  return new Response(req.body, { headers });
}

/** `/stream?count=N&interval=D`: N server-sent events, D apart; the first at once. */
function events({ req, url, name, now }: Context): Response {
  const count = integerParam(url.searchParams, "count", 10, MAX_EVENTS);
  if (typeof count === "string") return badRequest(count);
  const intervalMs = durationParam(url.searchParams, "interval", "1s");
  if (typeof intervalMs === "string") return badRequest(intervalMs);
  const body = eventStream({ count, intervalMs, name, now, signal: req.signal });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/**
 * `/gzip`: {@link GZIP_TEXT} gzip-encoded with an exact Content-Length, sent
 * whatever the request's Accept-Encoding, to prove a proxy passes encoded
 * bodies through untouched (Deno's fetch decodes them; see DENO-NOTES).
 */
async function gzip(): Promise<Response> {
  const body = await gzipBody();
  return new Response(body, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "content-encoding": "gzip",
      "content-length": String(body.byteLength),
    },
  });
}

/** `/cookies`: two separate Set-Cookie fields, which must never be joined (RFC 6265 §3). */
function cookies(): Response {
  const res = text(200, "cookies a and b set\n");
  res.headers.append("set-cookie", "a=1; Path=/");
  res.headers.append("set-cookie", "b=2; Path=/");
  return res;
}

/** `/redirect?to=URL`: 302 Found to URL, which may be relative. */
function redirect({ req, url }: Context): Response {
  const to = url.searchParams.get("to");
  // Control characters would be a header-injection attempt (or a Headers TypeError).
  // deno-lint-ignore no-control-regex
  if (to === null || to === "" || /[\x00-\x1f\x7f]/.test(to) || !URL.canParse(to, req.url)) {
    return badRequest(`to: ${JSON.stringify(to ?? "")} is not a URL (expected /redirect?to=URL)`);
  }
  return new Response(null, { status: 302, headers: { location: to } });
}

/**
 * `/ws`: a WebSocket echo. Every message comes back as it came (text as
 * text, binary as binary); the `echo` subprotocol is chosen when offered; a
 * client's close is answered with its own code and reason (Deno's socket
 * echoes the close frame). `?close=CODE` closes right after opening with
 * CODE (1000-4999), so tests can see a backend's code reach the client.
 */
function webSocket({ req, url }: Context): Response {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("expected a WebSocket upgrade\n", {
      status: 426,
      headers: { upgrade: "websocket", "content-type": "text/plain; charset=utf-8" },
    });
  }
  const closeCode = integerParam(url.searchParams, "close", 0, 4999);
  if (typeof closeCode === "string") return badRequest(closeCode);
  if (closeCode !== 0 && closeCode < 1000) return badRequest("close: expected a code 1000-4999");
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  const { socket, response } = Deno.upgradeWebSocket(req, {
    protocol: offered.includes("echo") ? "echo" : undefined,
  });
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    if (closeCode !== 0) socket.close(closeCode, `closed by request (${closeCode})`);
  };
  socket.onmessage = (e) => socket.send(e.data);
  return response;
}
