/**
 * Helpers for the h1 front's slow-client and tunnel tests: a client side
 * reader of responses and WebSocket frames on a raw socket, frame and PROXY
 * v2 header builders, metric lookups, the file limit, and a trickler.
 *
 * Run as a program it is the trickler: it opens many connections to a port,
 * each sending a partial request head, then a byte now and then, and reports
 * how many the server closed. It runs in a process of its own so that its
 * thousands of sockets don't share an event loop (or a file limit) with the
 * test measuring latency next to it:
 *
 * ```sh
 * deno run --allow-all tests/_slow.ts <port> <connections> <seconds> <byte-interval-ms>
 * ```
 *
 * @module
 */

import { latin1Bytes, latin1Text, Peer, within } from "./_h1.ts";

/**
 * How long any single read in these tests may wait: far beyond what a passing
 * run needs, so it only turns a hang (a timeout that never fires) into a failure.
 */
export const HANG_MS = 10_000;

// --- responses on a raw client socket ------------------------------------------

/** A response as read off a raw client connection. */
export interface WireResponse {
  readonly status: number;
  /** The head, terminator included. */
  readonly head: string;
  /** The body (de-chunked), latin1. */
  readonly body: string;
  /** A header's value (first of its name), case-insensitive. */
  header(name: string): string | undefined;
}

/** A raw client connection to 127.0.0.1:`port`, with a {@link Peer} reading it. */
export interface Client extends Disposable {
  readonly conn: Deno.TcpConn;
  readonly peer: Peer;
  /** Writes a string (latin1) or bytes; rejects when the socket is gone. */
  send(data: string | Uint8Array): Promise<void>;
  /** The next response ({@link readResponse}), failing after {@link HANG_MS}. */
  response(): Promise<WireResponse | null>;
  /** True at EOF (or a reset) with no byte before it ({@link Peer.eof}), failing after {@link HANG_MS}. */
  eof(): Promise<boolean>;
  close(): void;
}

/** Opens a raw client connection. */
export async function client(port: number): Promise<Client> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const peer = new Peer(conn, 0);
  return {
    conn,
    peer,
    response: () => within(readResponse(peer), HANG_MS, "a response"),
    eof: () => within(peer.eof(), HANG_MS, "the connection to close"),
    async send(data) {
      const bytes = typeof data === "string" ? latin1Bytes(data) : data;
      for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * Reads one response framed by Content-Length or chunked (every response the
 * front writes is), or a bare head for 1xx; null at EOF before any byte.
 */
export async function readResponse(peer: Peer): Promise<WireResponse | null> {
  // Peer.readRequest frames a message by its head's Content-Length or chunked
  // coding, which is all a response from the front needs.
  const message = await peer.readRequest();
  if (message === null) return null;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(message.head);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(message.head.slice(0, 40))}`);
  return {
    status: Number(m[1]),
    head: message.head,
    body: latin1Text(message.body),
    header: (name) => headerOf(message.head, name),
  };
}

/** A header's value in a head (first of its name), case-insensitive. */
export function headerOf(head: string, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0 && line.slice(0, i).toLowerCase() === lower) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** A GET of `path`, HTTP/1.1, keep-alive. */
export function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

// --- timing --------------------------------------------------------------------

/** Milliseconds since `t0` (from `performance.now()`). */
export function since(t0: number): number {
  return performance.now() - t0;
}

/** The `q` quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

// --- metrics -------------------------------------------------------------------

/** The lb's `/metrics` text. */
export async function metricsText(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  return await res.text();
}

/**
 * The value of one series, e.g. `lb_client_timeouts_total{phase="header"}`;
 * 0 when absent (a labelled counter appears only once incremented).
 */
export function metricIn(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** {@link metricIn} on a fresh `/metrics`. */
export async function metric(adminUrl: string, series: string): Promise<number> {
  return metricIn(await metricsText(adminUrl), series);
}

// --- WebSocket frames on a raw socket (RFC 6455 §5) -------------------------------

/** WebSocket opcodes. */
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** A frame as a client must send it: masked (RFC 6455 §5.3). */
export function clientFrame(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  const view = new DataView(out.buffer);
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    view.setUint16(2, len);
  } else {
    out[1] = 0x80 | 127;
    view.setBigUint64(2, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, 2 + ext);
  for (let i = 0; i < len; i++) out[2 + ext + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/** A close frame's payload: the code, big-endian, then the reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(text, 2);
  return out;
}

/** A frame read off the wire. */
export interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
  /** Bytes the frame took on the wire. */
  readonly wireBytes: number;
}

/** Reads one (server, so unmasked) frame; null at EOF. */
export async function readFrame(peer: Peer): Promise<Frame | null> {
  if (await peer.eof()) return null;
  const [b0, b1] = await peer.readExactly(2);
  let len = b1 & 0x7f;
  let wireBytes = 2;
  if (len === 126) {
    const b = await peer.readExactly(2);
    len = (b[0] << 8) | b[1];
    wireBytes += 2;
  } else if (len === 127) {
    const b = await peer.readExactly(8);
    len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0));
    wireBytes += 8;
  }
  const mask = b1 & 0x80 ? await peer.readExactly(4) : undefined;
  if (mask) wireBytes += 4;
  const payload = await peer.readExactly(len);
  if (mask) { for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3]; }
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload, wireBytes: wireBytes + len };
}

/** A raw client after a WebSocket handshake through the lb. */
export interface RawWebSocket extends Client {
  /** The 101 response head. */
  readonly head: string;
}

/**
 * Opens a raw connection and performs the WebSocket handshake on `path`;
 * checks the 101 and its `Sec-WebSocket-Accept` (RFC 6455 §4.2.2).
 */
export async function rawWebSocket(port: number, path = "/", extra = ""): Promise<RawWebSocket> {
  const c = await client(port);
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await c.send(
      `GET ${path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
    const head = await within(c.peer.readHead(), HANG_MS, "the 101");
    if (head === null || !head.startsWith("HTTP/1.1 101")) {
      throw new Error(`no 101: ${JSON.stringify(head)}`);
    }
    const accept = await acceptFor(key);
    if (headerOf(head, "sec-websocket-accept") !== accept) {
      throw new Error(`wrong Sec-WebSocket-Accept in ${JSON.stringify(head)}`);
    }
    return { ...c, head };
  } catch (err) {
    c.close();
    throw err;
  }
}

async function acceptFor(key: string): Promise<string> {
  const magic = `${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`;
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(magic));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

// --- PROXY protocol v2 (HAProxy's proxy-protocol.txt §2.2) -------------------------

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 PROXY TCP header for IPv4 or IPv6 addresses (both of one family). */
export function proxyV2(source: string, dest: string, sourcePort: number, destPort: number) {
  const v6 = source.includes(":");
  const addresses = v6
    ? [...ipv6Bytes(source), ...ipv6Bytes(dest)]
    : [...source.split(".").map(Number), ...dest.split(".").map(Number)];
  const body = [...addresses, sourcePort >> 8, sourcePort & 0xff, destPort >> 8, destPort & 0xff];
  // 0x21: version 2, PROXY; 0x11 TCP over IPv4, 0x21 TCP over IPv6.
  return Uint8Array.from([
    ...V2_SIGNATURE,
    0x21,
    v6 ? 0x21 : 0x11,
    body.length >> 8,
    body.length & 0xff,
    ...body,
  ]);
}

function ipv6Bytes(ip: string): number[] {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const words = (s: string | undefined) => s ? s.split(":").map((w) => parseInt(w, 16)) : [];
  const left = words(head);
  const right = words(tail);
  const groups = tail === undefined
    ? left
    : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return groups.flatMap((w) => [w >> 8, w & 0xff]);
}

// --- the file limit ----------------------------------------------------------------

/** This process's soft limit on open files (Linux); 0 when unknown. */
export function fileLimit(pid: number | "self" = "self"): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/limits`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Raises this process's file limit to at least `want` with `prlimit` (which
 * needs root, or a hard limit already that high); children inherit it.
 * Returns the limit now in force.
 */
export function raiseFileLimit(want: number): number {
  if (fileLimit() >= want) return fileLimit();
  try {
    new Deno.Command("prlimit", {
      args: ["--pid", String(Deno.pid), `--nofile=${want}:${want}`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
  } catch {
    // No prlimit: the limit stays as it was.
  }
  return fileLimit();
}

// --- the trickler -------------------------------------------------------------------

/** A partial head: the request line, Host, and a field whose value never ends. */
export const PARTIAL_HEAD = "GET /slow HTTP/1.1\r\nHost: test\r\nX-Slow: ";

/**
 * Opens `count` connections to `port` in batches (so the listen queue never
 * overflows), each with {@link PARTIAL_HEAD}; then, for `seconds`, writes one
 * more byte to each every `intervalMs`, spread evenly over the interval.
 * Returns how many stayed open to the end and how many the server closed.
 */
export async function trickle(
  port: number,
  count: number,
  options: { seconds: number; intervalMs: number; onOpen?: () => void },
): Promise<{ open: number; closed: number }> {
  const conns: (Deno.TcpConn | null)[] = [];
  const head = latin1Bytes(PARTIAL_HEAD);
  const byte = latin1Bytes("a");
  try {
    for (let i = 0; i < count; i += 250) {
      const batch = Math.min(250, count - i);
      conns.push(
        ...await Promise.all(Array.from({ length: batch }, async () => {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          await conn.write(head);
          return conn;
        })),
      );
    }
    options.onOpen?.();
    let closed = 0;
    const write = async (i: number) => {
      const conn = conns[i];
      if (conn === null) return;
      try {
        await conn.write(byte);
      } catch {
        closed++;
        conns[i] = null;
        conn.close();
      }
    };
    const tickMs = 50;
    const perTick = Math.max(1, Math.ceil(count * tickMs / options.intervalMs));
    const end = Date.now() + options.seconds * 1000;
    for (let next = 0; Date.now() < end; next = (next + perTick) % count) {
      const started = Date.now();
      const slice = [];
      for (let j = 0; j < perTick; j++) slice.push(write((next + j) % count));
      await Promise.all(slice);
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - started))));
    }
    return { open: conns.filter((c) => c !== null).length, closed };
  } finally {
    for (const conn of conns) {
      try {
        conn?.close();
      } catch { /* closed */ }
    }
  }
}

if (import.meta.main) {
  const [port, count, seconds, intervalMs] = Deno.args.map(Number);
  raiseFileLimit(count + 1000);
  const result = await trickle(port, count, {
    seconds,
    intervalMs,
    onOpen: () => console.log(`trickling ${count} connections to 127.0.0.1:${port}`),
  });
  console.log(`trickle done: ${result.open} open, ${result.closed} closed`);
}
