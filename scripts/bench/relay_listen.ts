/**
 * The `relay-listen` target: the ceiling for the lb's own HTTP/1.1 front.
 * A minimal relay on `Deno.listen` + a pool of kept-alive `Deno.connect`
 * connections (round-robin), with no `Request`/`Response` objects and no
 * rules: per client request, read the head, write a fixed head upstream
 * (method, target, `host: x`, the body's Content-Length), forward the body,
 * then copy the response head and body back byte for byte, chunked framing
 * included. Bodies stream through one buffer per socket, so a 256 MiB body
 * costs no more memory than a 100-byte one.
 *
 * Not a proxy to deploy: no header rules, no forwarding headers, no
 * timeouts, no retries, no `100 Continue`, and chunked request bodies are
 * refused (501). What it measures is the runtime's floor: whatever the lb
 * spends above it is the lb's own per-request work.
 *
 * Usage: `deno run --allow-net scripts/bench/relay_listen.ts --port N
 * --backends 127.0.0.1:A,127.0.0.1:B`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";
import {
  ascii,
  bodyChunks,
  BufReader,
  type Framing,
  latin1,
  parseHead,
  writeAll,
} from "./relay_http.ts";
import { exchange, RelayPool, type Upstream } from "./relay_pool.ts";

const BAD_GATEWAY = ascii(
  "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 12\r\nconnection: close\r\n\r\nbad gateway\n",
);
const NOT_IMPLEMENTED = ascii(
  "HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);

/** A running relay. */
export interface Relay {
  readonly addr: Deno.NetAddr;
  /** Stops accepting, closes every connection and waits for their loops to end. */
  close(): Promise<void>;
}

/** Options for {@link relayListen}. */
export interface RelayOptions {
  readonly hostname: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** `host:port` (or `http://host:port`) of each backend. */
  readonly backends: readonly string[];
}

/** Starts the relay. */
export function relayListen(o: RelayOptions): Relay {
  const pool = new RelayPool(o.backends);
  const listener = Deno.listen({ hostname: o.hostname, port: o.port });
  const conns = new Set<Deno.TcpConn>();
  const loops = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const loop = serveConnection(conn, pool).finally(() => {
          conns.delete(conn);
          loops.delete(loop);
        });
        loops.add(loop);
      }
    } catch { /* listener closed */ }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    async close() {
      listener.close();
      await accepting;
      for (const conn of conns) closeQuietly(conn);
      await Promise.all(loops);
      pool.close();
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Relays every request on one client connection, one at a time, until either side closes. */
async function serveConnection(conn: Deno.TcpConn, pool: RelayPool): Promise<void> {
  conn.setNoDelay(true);
  const client = new BufReader(conn);
  try {
    while (await relayOne(conn, client, pool));
  } catch {
    /* the client went away, or a backend failed mid-response */
  } finally {
    closeQuietly(conn);
  }
}

/** Relays one request; false when the connection must close afterwards. */
async function relayOne(conn: Deno.Conn, client: BufReader, pool: RelayPool): Promise<boolean> {
  const headLength = await client.readHead();
  if (headLength === 0) return false;
  const req = parseHead(latin1(client.peek(headLength)), "request");
  client.consume(headLength);
  if (req.framing.kind !== "length") {
    await writeAll(conn, NOT_IMPLEMENTED);
    return false;
  }
  const [method, target] = req.startLine.split(" ", 2);
  const bodyLength = req.framing.length;
  const body = bodyLength > 0 ? bodyChunks(client, req.framing, true) : undefined;
  const up = await pool.acquire().catch(() => undefined);
  if (!up) {
    await writeAll(conn, BAD_GATEWAY);
    return false;
  }
  let answered = false;
  try {
    const res = await exchange(up, { method, target, bodyLength }, body);
    answered = true;
    await copyResponse(conn, up, res.headLength, res.head.framing);
    const reusable = !res.head.close && res.head.framing.kind !== "close";
    if (reusable) pool.release(up);
    else pool.discard(up);
    return reusable && !req.close;
  } catch (err) {
    pool.discard(up);
    // Before the response started, the client can still be told; after, only closing says it.
    if (!answered) await writeAll(conn, BAD_GATEWAY).catch(() => {});
    throw err;
  }
}

/** Copies the response head and body; one write when both are already buffered. */
async function copyResponse(
  conn: Deno.Conn,
  up: Upstream,
  headLength: number,
  framing: Framing,
): Promise<void> {
  const whole = framing.kind === "length" ? headLength + framing.length : Infinity;
  if (whole <= up.reader.buffered) {
    await writeAll(conn, up.reader.peek(whole));
    up.reader.consume(whole);
    return;
  }
  await writeAll(conn, up.reader.peek(headLength));
  up.reader.consume(headLength);
  for await (const chunk of bodyChunks(up.reader, framing, true)) await writeAll(conn, chunk);
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, { port: { type: "string" }, backends: { type: "string" } });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "0"));
  const backends = String(f.backends ?? "").split(",").filter(Boolean);
  if (backends.length === 0) p.add("backends", "needs at least one host:port");
  p.throwIfAny();
  const relay = relayListen({ hostname: "127.0.0.1", port, backends });
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  Deno.addSignalListener("SIGINT", resolve);
  await promise;
  await relay.close();
  Deno.exit(0);
}

if (import.meta.main) await runCli("relay_listen", main);
