/**
 * A minimal reverse proxy on `Deno.serve` + `fetch`, round-robin over its
 * backends, bodies streamed both ways. It is a baseline for the benchmark
 * only — what "the obvious Deno proxy" costs — and **not a correct proxy**:
 * `fetch` decompresses gzip/br responses while keeping their
 * `Content-Encoding`/`Content-Length` (so a compressed body would go out
 * decoded and mislabelled), silently drops the client's `Host`, and retries
 * on its own; and there are no forwarding headers, health checks or typed
 * errors (see /work/shared/DENO-NOTES.md and lib/transport/ for the real one).
 *
 * Usage: `deno run --allow-net scripts/bench/fetch_proxy.ts --port N
 * --backends http://127.0.0.1:A,http://127.0.0.1:B`
 *
 * @module
 */

import { parseFlags, Problems, runCli } from "../../lib/config/cli.ts";

/** Hop-by-hop fields (RFC 9110 §7.6.1) that must not be forwarded. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function withoutHopByHop(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const name of HOP_BY_HOP) out.delete(name);
  return out;
}

/** A request handler that sends each request to the next of `backends`. */
export function fetchProxy(backends: readonly string[]): (req: Request) => Promise<Response> {
  let next = 0;
  return async (req) => {
    const backend = backends[next];
    next = (next + 1) % backends.length;
    const url = new URL(req.url);
    try {
      const up = await fetch(backend + url.pathname + url.search, {
        method: req.method,
        headers: withoutHopByHop(req.headers),
        body: req.body,
        redirect: "manual",
      });
      return new Response(up.body, {
        status: up.status,
        statusText: up.statusText,
        headers: withoutHopByHop(up.headers),
      });
    } catch (err) {
      return new Response(`bad gateway: ${err}\n`, { status: 502 });
    }
  };
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, { port: { type: "string" }, backends: { type: "string" } });
  const p = new Problems();
  const port = p.port("port", String(f.port ?? "0"));
  const backends = String(f.backends ?? "").split(",").filter(Boolean).map((b) =>
    b.replace(/\/+$/, "")
  );
  if (backends.length === 0) p.add("backends", "needs at least one http://host:port");
  p.throwIfAny();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, fetchProxy(backends));
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}

if (import.meta.main) await runCli("fetch_proxy", main);
