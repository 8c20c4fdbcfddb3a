/**
 * Helpers for tests that drive a front (the lb's client side) with raw
 * bytes: a recording backend that keeps every request exactly as it
 * arrived, an NGINX reverse proxy in front of it for comparison, and a raw
 * client that writes a byte stream (in pieces, with delays if asked) and
 * reads back every response until the server closes, a count is reached or
 * time runs out.
 *
 * @module
 */

import { delay, latin1Bytes, latin1Text, type Peer, wireServer } from "./_h1.ts";
import { concat } from "./_http.ts";

/** What the recording backend answers to every request. */
export const BACKEND_REPLY = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Backend: rec\r\n\r\nok";

/** A request as the recording backend read it. */
export interface Recorded {
  /** The request line, without its CRLF. */
  readonly line: string;
  readonly method: string;
  readonly target: string;
  /** Field names, lower-cased, sorted, each once. */
  readonly names: readonly string[];
  /** Field lines as sent, `[name, value]`, names lower-cased. */
  readonly fields: readonly [string, string][];
  /** The body, de-chunked when chunked, latin1. */
  readonly body: string;
  /** Every byte of the request as it came, latin1. */
  readonly raw: string;
}

/** A loopback backend that records each request and answers {@link BACKEND_REPLY}. */
export interface RecordingBackend extends AsyncDisposable {
  readonly port: number;
  readonly origin: string;
  /** Complete requests, in arrival order. */
  readonly requests: Recorded[];
  /** Bytes left over on connections that ended inside a request, latin1. */
  readonly partial: string[];
  /** Forgets what was recorded so far. */
  clear(): void;
  close(): Promise<void>;
}

/** Starts a {@link RecordingBackend} on 127.0.0.1 port 0. TCP health probes (connect, close) record nothing. */
export function recordingBackend(): RecordingBackend {
  const requests: Recorded[] = [];
  const partial: string[] = [];
  const server = wireServer(async (peer: Peer) => {
    try {
      for (let req = await peer.readRequest(); req; req = await peer.readRequest()) {
        requests.push(recorded(req.head, latin1Text(req.body), latin1Text(req.raw)));
        await peer.write(BACKEND_REPLY);
      }
    } catch {
      // EOF inside a request: keep what arrived after the last whole one.
      const used = peer.requests.reduce((n, r) => n + r.raw.length, 0);
      const rest = peer.receivedText.slice(used);
      if (rest !== "") partial.push(rest);
    }
  });
  return {
    port: server.port,
    origin: `http://127.0.0.1:${server.port}`,
    requests,
    partial,
    clear() {
      requests.length = 0;
      partial.length = 0;
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

function recorded(head: string, body: string, raw: string): Recorded {
  const [line, ...rest] = head.slice(0, -4).split("\r\n");
  const fields = rest.map((l): [string, string] => {
    const i = l.indexOf(":");
    // OWS is SP and HTAB only: String#trim would also strip NBSP (0xA0), an obs-text byte.
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).replace(/^[ \t]+|[ \t]+$/g, "")];
  });
  const [method = "", target = ""] = line.split(" ");
  return {
    line,
    method,
    target,
    names: [...new Set(fields.map(([n]) => n))].sort(),
    fields,
    body,
    raw,
  };
}

/** Where NGINX lives on Debian; tests skip (saying so) when it is missing. */
export const NGINX = "/usr/sbin/nginx";

/** Whether {@link NGINX} is installed. */
export async function hasNginx(): Promise<boolean> {
  try {
    await Deno.stat(NGINX);
    return true;
  } catch {
    return false;
  }
}

/** A running NGINX; `stop` kills it and removes its directory. */
export interface NginxProxy extends AsyncDisposable {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * NGINX as a plain reverse proxy to `backendPort` on a free loopback port,
 * with everything it writes in a temporary directory. `proxy_http_version
 * 1.1` so chunked request bodies are allowed through; default settings
 * otherwise (request bodies are buffered and sent with Content-Length).
 */
export async function startNginx(backendPort: number): Promise<NginxProxy> {
  const dir = await Deno.makeTempDir({ prefix: "front_nginx_" });
  const port = freePort();
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream rec { server 127.0.0.1:${backendPort}; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://rec;
      proxy_http_version 1.1;
    }
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const child = new Deno.Command(NGINX, {
    args: ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitForPort(port, child, `${dir}/error.log`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop, [Symbol.asyncDispose]: stop };
}

/** A loopback port nothing listens on (just now). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, log: string): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline && !exited;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await delay(20);
    }
  }
  const errors = await Deno.readTextFile(log).catch(() => "(no error log)");
  throw new Error(`nginx did not start on port ${port}:\n${errors}`);
}

/** A response read off the wire. */
export interface WireResponse {
  /** 1 for HTTP/1.1, 0 for HTTP/1.0 (the front must answer 1.1; Deno.serve answers 1.0 in kind). */
  readonly minor: 0 | 1;
  readonly status: number;
  /** The status line, without CRLF. */
  readonly line: string;
  readonly fields: readonly [string, string][];
  /** De-chunked when chunked, latin1. */
  readonly body: string;
}

/** How a raw exchange ended. */
export interface WireResult {
  /** Complete final responses (1xx left out), in order. */
  readonly responses: readonly WireResponse[];
  /** Interim (1xx) responses seen. */
  readonly interim: number;
  /** The server closed (EOF or reset) before `timeoutMs` and before the count was reached. */
  readonly closed: boolean;
  /** Bytes after the last complete response; a well-behaved server leaves none. */
  readonly rest: string;
  /** Why the bytes received are not a sequence of well-formed HTTP/1.1 responses, if they aren't. */
  readonly malformed: string | undefined;
  /** Every byte received, latin1. */
  readonly raw: string;
}

/** Options of {@link exchangeRaw}. */
export interface ExchangeOptions {
  /** Stop once this many final responses have arrived (else read until close or timeout). */
  readonly responses?: number;
  /** Give up after this long from connecting (the result then says not closed); 3 s by default. */
  readonly timeoutMs?: number;
  /** Pause before each piece after the first. */
  readonly delayMs?: number;
}

/**
 * Connects to `port`, writes `pieces` one write each (a write the server
 * refuses by closing is not an error: the test looks at what came back),
 * and reads responses as they come.
 */
export async function exchangeRaw(
  port: number,
  pieces: readonly (string | Uint8Array)[],
  options: ExchangeOptions = {},
): Promise<WireResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const timeoutMs = options.timeoutMs ?? 3000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((r) => timer = setTimeout(r, timeoutMs, "timeout"));
  const chunks: Uint8Array[] = [];
  let closed = false;
  // Set before we close the socket ourselves, so that the read this cuts short isn't taken for the server's close.
  let stopped = false;
  let parsed: Parsed = { responses: [], interim: 0, rest: 0, malformed: undefined };
  const reader = (async () => {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        closed = !stopped;
        return;
      }
      chunks.push(buf.slice(0, n));
      parsed = parseResponses(latin1Text(concat(chunks)), false);
      if (parsed.malformed) return;
      if (options.responses !== undefined && parsed.responses.length >= options.responses) return;
    }
  })();
  const writer = (async () => {
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && options.delayMs) await delay(options.delayMs);
      const p = pieces[i];
      const bytes = typeof p === "string" ? latin1Bytes(p) : p;
      try {
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      } catch {
        return; // The server closed on us.
      }
    }
  })();
  try {
    await Promise.race([reader, deadline]);
  } finally {
    clearTimeout(timer);
    stopped = true;
    conn.close();
    await Promise.allSettled([reader, writer]);
  }
  const raw = latin1Text(concat(chunks));
  // At EOF, a response without a length that ran to the close is complete.
  parsed = parseResponses(raw, closed);
  return {
    responses: parsed.responses,
    interim: parsed.interim,
    closed,
    rest: raw.slice(parsed.rest),
    malformed: parsed.malformed,
    raw,
  };
}

interface Parsed {
  responses: WireResponse[];
  interim: number;
  /** Index past the last complete response. */
  rest: number;
  malformed: string | undefined;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d) [\t -~\x80-\xff]*$/;
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\t -~\x80-\xff]*?)[\t ]*$/;

/**
 * Splits `text` into HTTP/1.x responses (RFC 9112 §4-§6), strictly: a
 * status line of HTTP/1.1 or HTTP/1.0, field lines of token ":" value, framing by
 * Content-Length (one value) or chunked; a response with neither is
 * complete only at `eof`.
 */
export function parseResponses(text: string, eof: boolean): Parsed {
  const out: Parsed = { responses: [], interim: 0, rest: 0, malformed: undefined };
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd === -1) {
      // An incomplete head must at least start like a status line.
      const start = text.slice(pos, pos + 9);
      if (!["HTTP/1.1 ", "HTTP/1.0 "].some((p) => p.startsWith(start))) {
        out.malformed = `not a status line: ${JSON.stringify(text.slice(pos, pos + 40))}`;
      }
      break;
    }
    const [line, ...lines] = text.slice(pos, headEnd).split("\r\n");
    const m = STATUS_LINE.exec(line);
    if (!m) {
      out.malformed = `bad status line ${JSON.stringify(line)}`;
      break;
    }
    const fields: [string, string][] = [];
    for (const l of lines) {
      const f = FIELD_LINE.exec(l);
      if (!f) {
        out.malformed = `bad field line ${JSON.stringify(l)}`;
        return out;
      }
      fields.push([f[1].toLowerCase(), f[2]]);
    }
    const minor = m[1] === "1" ? 1 : 0;
    const status = Number(m[2]);
    let at = headEnd + 4;
    if (status < 200) {
      out.interim++;
      pos = out.rest = at;
      continue;
    }
    const lengths = fields.filter(([n]) => n === "content-length").map(([, v]) => v);
    const te = fields.filter(([n]) => n === "transfer-encoding").map(([, v]) => v);
    let body: string;
    if (te.length > 0) {
      if (te.join(",").toLowerCase() !== "chunked" || lengths.length > 0) {
        out.malformed = `bad framing: transfer-encoding ${te} content-length ${lengths}`;
        break;
      }
      const r = dechunk(text, at);
      if (r === undefined) break;
      if (typeof r === "string") {
        out.malformed = r;
        break;
      }
      [body, at] = r;
    } else if (lengths.length > 0) {
      if (lengths.length > 1 || !/^\d+$/.test(lengths[0])) {
        out.malformed = `bad content-length ${lengths}`;
        break;
      }
      const n = Number(lengths[0]);
      if (text.length < at + n) break;
      body = text.slice(at, at + n);
      at += n;
    } else if (status === 204 || status === 304) {
      body = "";
    } else {
      if (!eof) break;
      body = text.slice(at);
      at = text.length;
    }
    out.responses.push({ minor, status, line, fields, body });
    pos = out.rest = at;
  }
  return out;
}

/** `[body, end]`, undefined when incomplete, or a string saying what is wrong. */
function dechunk(text: string, at: number): [string, number] | string | undefined {
  const parts: string[] = [];
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const m = /^([0-9a-fA-F]{1,8})(;[^\r\n]*)?$/.exec(text.slice(at, eol));
    if (!m) return `bad chunk size line ${JSON.stringify(text.slice(at, eol))}`;
    const size = parseInt(m[1], 16);
    at = eol + 2;
    if (size === 0) {
      const end = text.indexOf("\r\n\r\n", at - 2);
      return end === -1 ? undefined : [parts.join(""), end + 4];
    }
    if (text.length < at + size + 2) return undefined;
    parts.push(text.slice(at, at + size));
    if (text.slice(at + size, at + size + 2) !== "\r\n") return "chunk not followed by CRLF";
    at += size + 2;
  }
}

/** The value of `name` in a Prometheus text exposition (first sample without labels). */
export async function metricValue(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, "m").exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}
