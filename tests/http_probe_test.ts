import assert from "node:assert/strict";
import type { HttpCheckConfig } from "../lib/config/types.ts";
import { httpProbe } from "../lib/health/http_probe.ts";
import { rawServer, writeAll } from "./_http.ts";

const encoder = new TextEncoder();

function check(overrides: Partial<HttpCheckConfig> = {}): HttpCheckConfig {
  return { path: "/readyz", statusMin: 200, statusMax: 399, ...overrides };
}

/** A signal that never fires, for probes that finish on their own. */
const quiet = () => new AbortController().signal;

/**
 * A Deno.serve backend on loopback port 0 answering `status` on /readyz (404
 * elsewhere) and recording each request's path and Host.
 */
function backend(status: number) {
  const seen: { path: string; host: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    seen.push({ path: url.pathname + url.search, host: req.headers.get("host") });
    if (url.pathname !== "/readyz") return new Response("not found", { status: 404 });
    const headers = status >= 300 && status < 400 ? { location: "/elsewhere" } : undefined;
    const body = status === 204 || status === 304 ? null : "body the probe never reads";
    return new Response(body, { status, headers });
  });
  return {
    target: { hostname: "127.0.0.1", port: server.addr.port },
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("httpProbe: 200 on the path passes", async () => {
  await using b = backend(200);
  await httpProbe(check())(b.target, quiet());
  assert.deepEqual(b.seen.map((s) => s.path), ["/readyz"]);
});

Deno.test("httpProbe: 503 fails, naming the status", async () => {
  await using b = backend(503);
  await assert.rejects(() => httpProbe(check())(b.target, quiet()), /answered 503/);
});

Deno.test("httpProbe: the wrong path's 404 fails", async () => {
  await using b = backend(200);
  await assert.rejects(() => httpProbe(check({ path: "/healthz" }))(b.target, quiet()), /404/);
});

Deno.test("httpProbe: a 200-399 range accepts a 302", async () => {
  await using b = backend(302);
  await httpProbe(check())(b.target, quiet());
});

Deno.test("httpProbe: the range bounds are inclusive, and outside them fails", async () => {
  {
    await using b = backend(204);
    await httpProbe(check({ statusMin: 204, statusMax: 204 }))(b.target, quiet());
    await assert.rejects(
      () => httpProbe(check({ statusMin: 200, statusMax: 203 }))(b.target, quiet()),
      /answered 204/,
    );
  }
  {
    await using b = backend(302);
    await assert.rejects(
      () => httpProbe(check({ statusMin: 200, statusMax: 299 }))(b.target, quiet()),
      /answered 302/,
    );
  }
});

Deno.test("httpProbe: Host is host:port of the target by default", async () => {
  await using b = backend(200);
  await httpProbe(check())(b.target, quiet());
  assert.equal(b.seen[0].host, `127.0.0.1:${b.target.port}`);
});

Deno.test("httpProbe: Host is config.host when set", async () => {
  await using b = backend(200);
  await httpProbe(check({ host: "svc.internal" }))(b.target, quiet());
  assert.equal(b.seen[0].host, "svc.internal");
});

Deno.test("httpProbe: the request is one GET with Connection: close", async () => {
  await using srv = rawServer(async (conn) => {
    await writeAll(conn, encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
  });
  await httpProbe(check({ path: "/readyz?deep=1" }))(
    { hostname: "127.0.0.1", port: srv.port },
    quiet(),
  );
  assert.equal(srv.received.length, 1);
  const [requestLine, ...fields] = srv.received[0].split("\r\n");
  assert.equal(requestLine, "GET /readyz?deep=1 HTTP/1.1");
  assert.ok(fields.includes(`Host: 127.0.0.1:${srv.port}`), srv.received[0]);
  assert.ok(fields.includes("Connection: close"), srv.received[0]);
});

Deno.test("httpProbe: a status line split across writes is read whole", async () => {
  await using srv = rawServer(async (conn) => {
    await writeAll(conn, encoder.encode("HTTP/1.1 2"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeAll(conn, encoder.encode("00 OK\r\n\r\n"));
  });
  await httpProbe(check())({ hostname: "127.0.0.1", port: srv.port }, quiet());
});

Deno.test("httpProbe: a malformed status line fails", async () => {
  await using srv = rawServer(async (conn) => {
    await writeAll(conn, encoder.encode("SSH-2.0-OpenSSH_9.6\r\n"));
  });
  await assert.rejects(
    () => httpProbe(check())({ hostname: "127.0.0.1", port: srv.port }, quiet()),
    /malformed status line/,
  );
});

Deno.test("httpProbe: a connection closed before a status line fails", async () => {
  await using srv = rawServer(async () => {});
  await assert.rejects(
    () => httpProbe(check())({ hostname: "127.0.0.1", port: srv.port }, quiet()),
    /closed before a status line/,
  );
});

Deno.test("httpProbe: a backend that never answers is cut off by the signal and the socket closed", async () => {
  let closedByProbe!: () => void;
  const sawEof = new Promise<void>((resolve) => closedByProbe = resolve);
  // Reads the request, never answers, and waits to see the probe hang up.
  await using srv = rawServer(async (conn) => {
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
    }
    closedByProbe();
  });
  const started = performance.now();
  const err = await httpProbe(check())(
    { hostname: "127.0.0.1", port: srv.port },
    AbortSignal.timeout(200),
  ).then(() => assert.fail("expected the probe to time out"), (e) => e);
  assert.ok(err instanceof DOMException && err.name === "TimeoutError", String(err));
  assert.ok(performance.now() - started < 5_000);
  await sawEof;
  assert.equal(srv.received.length, 1);
});

Deno.test("httpProbe: an already-aborted signal rejects without a request", async () => {
  await using b = backend(200);
  const ac = new AbortController();
  ac.abort(new Error("gone"));
  await assert.rejects(() => httpProbe(check())(b.target, ac.signal));
  assert.equal(b.seen.length, 0);
});

Deno.test("httpProbe: connection refused rejects", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    () => httpProbe(check())({ hostname: "127.0.0.1", port }, quiet()),
    Deno.errors.ConnectionRefused,
  );
});
