/**
 * The benchmark's fallback backend when NGINX is not installed: the same
 * three routes as the NGINX backend config, on `Deno.serve`.
 *
 * - `GET /`: 100 bytes of text
 * - `GET /1m`: 1 MiB, from memory
 * - `GET /text`: 16 KiB of text (the `text` case)
 * - `GET /256m`: 256 MiB of zeros, streamed from one 64 KiB buffer
 * - `POST /upload`, `POST /big-upload`: read the whole request body, then answer 200 `ok`
 * - `/auth` (a forward-auth service: 204 naming a user) and `POST /v1/traces` (an OTLP
 *   collector: reads the export, answers `{}`), for the edge policies' targets
 *
 * Usage: `deno run --allow-net scripts/bench/deno_backend.ts --port N`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";
import {
  AUTH_PATH,
  AUTH_USER_FIELD,
  HUGE_BODY_BYTES,
  LARGE_BODY_BYTES,
  OTLP_TRACES_PATH,
  smallBody,
  textBody,
} from "./configs.ts";

const SMALL = new TextEncoder().encode(smallBody());
const LARGE = new Uint8Array(LARGE_BODY_BYTES).fill(0x78);
const TEXT = new TextEncoder().encode(textBody());
const ZEROS = new Uint8Array(64 * 1024);

/** `bytes` zeros as a stream that makes one chunk per pull, so nothing piles up. */
function zeros(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      const n = Math.min(left, ZEROS.byteLength);
      left -= n;
      // A fresh copy: Deno.serve may still hold the previous chunk.
      controller.enqueue(ZEROS.slice(0, n));
      if (left === 0) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** Reads a body to the end without keeping it; returns its length. */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<number> {
  let n = 0;
  if (body) { for await (const chunk of body) n += chunk.byteLength; }
  return n;
}

/** The backend's routes. */
export async function handle(req: Request): Promise<Response> {
  const { pathname } = new URL(req.url);
  if (pathname === "/") {
    return new Response(SMALL, { headers: { "content-type": "text/plain" } });
  }
  if (pathname === "/1m") {
    return new Response(LARGE, { headers: { "content-type": "application/octet-stream" } });
  }
  if (pathname === "/text") {
    return new Response(TEXT, { headers: { "content-type": "text/plain" } });
  }
  if (pathname === AUTH_PATH) {
    await drain(req.body);
    return new Response(null, { status: 204, headers: { [AUTH_USER_FIELD]: "bench" } });
  }
  if (pathname === OTLP_TRACES_PATH) {
    await drain(req.body);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  }
  if (pathname === "/256m") {
    // An explicit Content-Length makes Deno.serve frame the stream by length, not chunked.
    return new Response(zeros(HUGE_BODY_BYTES), {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(HUGE_BODY_BYTES),
      },
    });
  }
  if (pathname === "/upload" || pathname === "/big-upload") {
    if (req.method !== "POST") return new Response("POST only\n", { status: 405 });
    await drain(req.body);
    return new Response("ok\n", { headers: { "content-type": "text/plain" } });
  }
  await drain(req.body);
  return new Response("not found\n", { status: 404 });
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, { port: { type: "string" } });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "0"));
  p.throwIfAny();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handle);
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}

if (import.meta.main) await runCli("deno_backend", main);
