/**
 * Test helpers for exact HTTP on the wire: a raw client that reports bytes
 * as they arrived (no decompression, no header merging), and small loopback
 * servers for backends that misbehave on purpose.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A response as it arrived on the wire. */
export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  /** Header fields in order, names lower-cased, duplicates kept. */
  readonly headers: [string, string][];
  /** The body after de-chunking (when chunked), else the raw bytes. */
  readonly body: Uint8Array;
  /** Whether the body was chunked. */
  readonly chunked: boolean;
  /** Every byte received. */
  readonly raw: Uint8Array;
  header(name: string): string | undefined;
  all(name: string): string[];
}

/**
 * Sends `head` (CRLF line endings added, `Connection: close` appended) and an
 * optional body, then reads to EOF and parses one response.
 */
export async function rawRequest(
  port: number,
  lines: string[],
  body?: Uint8Array,
  hostname = "127.0.0.1",
): Promise<RawResponse> {
  using conn = await Deno.connect({ hostname, port });
  const head = [...lines, "Connection: close", "", ""].join("\r\n");
  await writeAll(conn, encoder.encode(head));
  if (body) await writeAll(conn, body);
  const raw = await readAll(conn);
  return parseResponse(raw);
}

/** Writes every byte. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads until EOF (or a reset, which ends the read too). */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      parts.push(buf.slice(0, n));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.ConnectionReset)) throw err;
  }
  return concat(parts);
}

/** Parses one HTTP/1.1 response from bytes. */
export function parseResponse(raw: Uint8Array): RawResponse {
  const end = indexOf(raw, encoder.encode("\r\n\r\n"));
  if (end < 0) throw new Error(`no response head in ${JSON.stringify(decoder.decode(raw))}`);
  const headText = decoder.decode(raw.subarray(0, end));
  const [statusLine, ...fieldLines] = headText.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw new Error(`bad status line ${statusLine}`);
  const headers = fieldLines.map((l): [string, string] => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  });
  let body = raw.subarray(end + 4);
  const chunked = headers.some(([n, v]) => n === "transfer-encoding" && /chunked/i.test(v));
  if (chunked) body = dechunk(body);
  return {
    status: Number(m[1]),
    reason: m[2],
    headers,
    body,
    chunked,
    raw,
    header: (name) => headers.find(([n]) => n === name.toLowerCase())?.[1],
    all: (name) => headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v),
  };
}

function dechunk(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const lineEnd = indexOf(data, encoder.encode("\r\n"), off);
    if (lineEnd < 0) throw new Error("truncated chunked body");
    const size = parseInt(decoder.decode(data.subarray(off, lineEnd)).split(";")[0], 16);
    off = lineEnd + 2;
    if (size === 0) break;
    parts.push(data.subarray(off, off + size));
    off += size + 2;
  }
  return concat(parts);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A loopback TCP server that answers each connection with `respond`. */
export interface RawServer extends AsyncDisposable {
  readonly port: number;
  readonly origin: string;
  /** Requests (heads and any bytes read) seen so far. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * Starts a raw TCP "backend" on port 0. For each connection it reads until the
 * end of the request head, records it, and calls `respond` (which may write
 * anything, including garbage, or just close).
 */
export function rawServer(
  respond: (conn: Deno.Conn, request: string) => Promise<void>,
): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const task = (async () => {
        try {
          const request = await readHead(conn);
          // Health probes connect and close without sending anything.
          if (request === "") return;
          received.push(request);
          await respond(conn, request);
        } catch {
          // The peer went away; nothing to do.
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* already closed */ }
        }
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  const close = async () => {
    try {
      listener.close();
    } catch { /* closed */ }
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await loop.catch(() => {});
    await Promise.allSettled([...tasks]);
  };
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    received,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function readHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16 * 1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n));
  }
  return text;
}

/** Writes a string to a connection. */
export function send(conn: Deno.Conn, text: string): Promise<void> {
  return writeAll(conn, encoder.encode(text));
}

/** A `Deno.serve` backend on loopback port 0, disposable. */
export function httpServer(
  handler: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
): { origin: string; port: number; server: Deno.HttpServer } & AsyncDisposable {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const port = server.addr.port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    server,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
