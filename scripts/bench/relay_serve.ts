/**
 * The `relay-serve` target: the ceiling for the lb's `Deno.serve` front.
 * The same upstream side as `relay_listen.ts` (kept-alive `Deno.connect`
 * connections, round-robin, a fixed request head) behind `Deno.serve`, with
 * one `new Response(body, { status, headers })` per request: the body is
 * the bytes themselves up to 64 KiB, else a stream pulled from the upstream
 * socket as `Deno.serve` writes it out, so memory stays bounded for a
 * 256 MiB body. Request bodies stream upstream chunk by chunk.
 *
 * Not a proxy to deploy, for the same reasons as `relay_listen.ts`; a
 * request body without Content-Length is refused (411).
 *
 * Usage: `deno run --allow-net scripts/bench/relay_serve.ts --port N
 * --backends 127.0.0.1:A,127.0.0.1:B`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";
import { bodyChunks, fieldPairs, latin1 } from "./relay_http.ts";
import { exchange, RelayPool, type Upstream, type UpstreamResponse } from "./relay_pool.ts";

/** Bodies up to this size are read whole and handed over as bytes. */
const WHOLE_BODY_BYTES = 64 * 1024;

/** Hop-by-hop fields (RFC 9110 §7.6.1) `Deno.serve` must not be handed. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

/** A `Deno.serve` handler relaying each request to the next backend of `pool`. */
export function relayHandler(pool: RelayPool): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = req.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const length = req.headers.get("content-length");
    if (req.body && length === null) return new Response("length required\n", { status: 411 });
    const bodyLength = Number(length ?? 0);
    let up: Upstream;
    try {
      up = await pool.acquire();
    } catch {
      return new Response("bad gateway\n", { status: 502 });
    }
    try {
      const body = bodyLength > 0 && req.body ? req.body : undefined;
      const res = await exchange(up, { method: req.method, target, bodyLength }, body);
      return await respond(pool, up, res);
    } catch {
      pool.discard(up);
      return new Response("bad gateway\n", { status: 502 });
    }
  };
}

async function respond(pool: RelayPool, up: Upstream, res: UpstreamResponse): Promise<Response> {
  const { head, headLength } = res;
  const headers = fieldPairs(latin1(up.reader.peek(headLength)))
    .filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
  up.reader.consume(headLength);
  const reusable = !head.close && head.framing.kind !== "close";
  const done = () => reusable ? pool.release(up) : pool.discard(up);
  const init = { status: head.status, headers };
  const framing = head.framing;
  if (framing.kind === "length" && framing.length <= WHOLE_BODY_BYTES) {
    const bytes = new Uint8Array(framing.length);
    let at = 0;
    for await (const chunk of bodyChunks(up.reader, framing, false)) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    done();
    return new Response(bytes.byteLength > 0 ? bytes : null, init);
  }
  const chunks = bodyChunks(up.reader, framing, false);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) {
          controller.close();
          done();
          return;
        }
        // The chunk is a view into the socket's buffer, which the next read reuses.
        controller.enqueue(next.value.slice());
      } catch (err) {
        pool.discard(up);
        controller.error(err);
      }
    },
    cancel() {
      pool.discard(up);
    },
  }, { highWaterMark: 0 });
  return new Response(stream, init);
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, { port: { type: "string" }, backends: { type: "string" } });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "0"));
  const backends = String(f.backends ?? "").split(",").filter(Boolean);
  if (backends.length === 0) p.add("backends", "needs at least one host:port");
  p.throwIfAny();
  const pool = new RelayPool(backends);
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, relayHandler(pool));
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
  pool.close();
}

if (import.meta.main) await runCli("relay_serve", main);
