/**
 * The demo backend's request handler: traefik/whoami-style "who am I and
 * what did you send me" pages plus httpbin-style endpoints (sized bodies,
 * echo, server-sent events, gzip, cookies, redirects, delays, statuses) for
 * exercising a load balancer end to end.
 *
 * Every body that can be large is streamed, never built in memory, so the
 * backend can push or reflect gigabytes with bounded memory.
 *
 * @module
 */

import { parseDuration } from "../duration.ts";

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
/** Size of each chunk `/data` streams. */
export const DATA_CHUNK_SIZE = 64 * 1024;
/** Largest `/stream?count=`. */
export const MAX_EVENTS = 100_000;

/** Statuses whose responses never carry a body (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

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

/**
 * `/`: the request as text, like traefik/whoami: name, request line, client
 * address, then Host and the other headers (sorted, as Fetch yields them).
 */
function whoamiText({ req, info, url, name }: Context): Response {
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
function whoamiJson({ req, info, url, name }: Context): Response {
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

/** `/data?size=N`: N bytes of {@link dataPattern}, streamed in {@link DATA_CHUNK_SIZE} chunks. */
function data({ url }: Context): Response {
  const size = integerParam(url.searchParams, "size", 1024, MAX_DATA_SIZE);
  if (typeof size === "string") return badRequest(size);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    // pull, not start: a chunk is made only when the connection can take it,
    // so a slow client holds at most one chunk in memory.
    pull(controller) {
      const n = Math.min(DATA_CHUNK_SIZE, size - sent);
      if (n > 0) controller.enqueue(dataPattern(sent, n));
      sent += n;
      if (sent >= size) controller.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
  });
}

/** Printable ASCII `!`..`~`; 94 does not divide the chunk size, so a dropped or repeated chunk shows. */
const PATTERN_PERIOD = 94;
const PATTERN_BLOCK = Uint8Array.from(
  { length: DATA_CHUNK_SIZE + PATTERN_PERIOD },
  (_, i) => 33 + (i % PATTERN_PERIOD),
);

/**
 * The bytes `/data` sends from `offset` for `length` bytes: byte `i` of the
 * body is `33 + (i % 94)`. Exported so tests can check bodies byte-exact.
 */
export function dataPattern(offset: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const start = (offset + done) % PATTERN_PERIOD;
    const n = Math.min(length - done, DATA_CHUNK_SIZE);
    out.set(PATTERN_BLOCK.subarray(start, start + n), done);
    done += n;
  }
  return out;
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
  const encoder = new TextEncoder();
  const cancelled = new AbortController();
  const signal = AbortSignal.any([req.signal, cancelled.signal]);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0 && !(await sleep(intervalMs, signal))) {
        // Client gone: end quietly. Returning without enqueueing would make the
        // stream call pull again at once, forever.
        closeQuietly(controller);
        return;
      }
      if (sent < count) {
        sent++;
        const payload = JSON.stringify({ i: sent, name, time: now() });
        controller.enqueue(encoder.encode(`id: ${sent}\ndata: ${payload}\n\n`));
      }
      if (sent >= count) controller.close();
    },
    // Deno.serve cancels the body when the client disconnects; stop the timer.
    cancel() {
      cancelled.abort();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // Already cancelled by the reader: nothing left to close.
  }
}

/** The text `/gzip` compresses: 64 numbered lines, about 3.5 KB. */
export const GZIP_TEXT = Array.from(
  { length: 64 },
  (_, i) => `line ${String(i + 1).padStart(2, "0")}: the quick brown fox jumps over the lazy dog\n`,
).join("");

let gzipped: Promise<Uint8Array> | undefined;

/**
 * `/gzip`: {@link GZIP_TEXT} gzip-encoded with an exact Content-Length, sent
 * whatever the request's Accept-Encoding, to prove a proxy passes encoded
 * bodies through untouched (Deno's fetch decodes them; see DENO-NOTES).
 */
async function gzip(): Promise<Response> {
  gzipped ??= new Response(
    new Blob([GZIP_TEXT]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  // A copy per response, so no response can ever share or detach the cached buffer.
  const body = (await gzipped).slice();
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

/** Replaces a response's status, dropping the body where the status forbids one. */
function withStatus(res: Response, status: number): Response {
  if (!NULL_BODY_STATUSES.has(status)) {
    return new Response(res.body, { status, headers: res.headers });
  }
  // Release whatever the body holds (a generator, or the request body for /echo).
  res.body?.cancel().catch(() => {});
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(null, { status, headers });
}

function badRequest(message: string): Response {
  return text(400, `${message}\n`);
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** A `?name=` whole number in [0, max], or a message naming the parameter. */
function integerParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
): number | string {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > max) {
    return `${name}: ${JSON.stringify(raw)} is not a whole number from 0 to ${max}`;
  }
  return n;
}

/** A `?name=` duration in milliseconds, or a message naming the parameter. */
function durationParam(query: URLSearchParams, name: string, fallback: string): number | string {
  const raw = query.get(name) ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) {
    return `${name}: ${JSON.stringify(raw)} is not a duration (expected e.g. 500ms, 2s)`;
  }
  return ms;
}

/** `?status=N`, 200-599, or a message; `undefined` when absent. */
function statusParam(query: URLSearchParams): number | string | undefined {
  const raw = query.get("status");
  if (raw === null) return undefined;
  const n = Number(raw);
  // 1xx are interim responses and cannot be a final answer.
  if (!/^\d{3}$/.test(raw) || n < 200 || n > 599) {
    return `status: ${JSON.stringify(raw)} is not a status from 200 to 599`;
  }
  return n;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is cleared). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `ip:port`, with IPv6 in brackets as in URLs. */
function formatAddr(addr: Deno.Addr): string {
  if (!("hostname" in addr)) return "path" in addr ? addr.path : addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** `x-forwarded-for` → `X-Forwarded-For`, the spelling people expect to read. */
function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}
