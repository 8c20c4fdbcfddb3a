/**
 * What the NGINX backends stream `/big-upload` bodies to: a server on
 * `Deno.listen` that reads each request body to its end (Content-Length or
 * chunked) through one 256 KiB buffer, then answers 200 `ok`, keeping the
 * connection. NGINX cannot both read a 256 MiB body whole and keep it out
 * of memory and disk (see configs.ts); this does, at several GB/s, so it is
 * not what limits the `big-upload` case. Any request is treated alike.
 *
 * Usage: `deno run --allow-net scripts/bench/drain.ts --port N`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";
import { ascii, bodyChunks, BufReader, latin1, parseHead, writeAll } from "./relay_http.ts";

const OK = ascii("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n");

/** Reads requests on `conn` and answers each once its body is in, until the peer closes. */
export async function drainConnection(conn: Deno.Conn): Promise<void> {
  const reader = new BufReader(conn, 256 * 1024);
  try {
    for (;;) {
      const headLength = await reader.readHead();
      if (headLength === 0) return;
      const req = parseHead(latin1(reader.peek(headLength)), "request");
      reader.consume(headLength);
      for await (const _ of bodyChunks(reader, req.framing, false)) { /* dropped */ }
      await writeAll(conn, OK);
      if (req.close) return;
    }
  } catch {
    /* peer gone */
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, { port: { type: "string" } });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "0"));
  p.throwIfAny();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const stop = () => Deno.exit(0);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  for await (const conn of listener) drainConnection(conn);
}

if (import.meta.main) await runCli("drain", main);
