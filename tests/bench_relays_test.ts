/**
 * The benchmark's ceiling relays and its drain, end to end on loopback: a
 * `Deno.serve` backend, each relay in front of it (in this process), and
 * `fetch` as the client. Bodies are kept small; what matters is framing:
 * Content-Length and chunked responses, request bodies, keep-alive.
 */

import assert from "node:assert/strict";
import { type BigClientResult, runBigClient } from "../scripts/bench/big_client.ts";
import { drainConnection } from "../scripts/bench/drain.ts";
import { relayListen } from "../scripts/bench/relay_listen.ts";
import { RelayPool } from "../scripts/bench/relay_pool.ts";
import { relayHandler } from "../scripts/bench/relay_serve.ts";

const MIB = 1024 * 1024;

/** A backend whose answers show what arrived. */
function backend(req: Request): Response | Promise<Response> {
  const { pathname } = new URL(req.url);
  if (pathname === "/small") return new Response("x".repeat(99) + "\n");
  if (pathname === "/chunked") {
    // No Content-Length on a stream: Deno.serve frames it chunked.
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ < 20) c.enqueue(new Uint8Array(100_000).fill(0x61 + (n % 26)));
        else c.close();
      },
    });
    return new Response(body, { headers: { "x-kind": "chunked" } });
  }
  if (pathname === "/upload") {
    return req.bytes().then((b) => {
      const sum = b.reduce((s, x) => s + x, 0);
      return new Response(`${req.method} ${b.byteLength} ${sum} host=${req.headers.get("host")}`);
    });
  }
  return new Response("not found\n", { status: 404 });
}

async function withBackend(fn: (addr: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, backend);
  try {
    await fn(`127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** The same checks through any relay on `port`. */
async function checkRelay(port: number): Promise<void> {
  using client = Deno.createHttpClient({});
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${base}/small`, { client });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "x".repeat(99) + "\n");
  }
  const chunked = await fetch(`${base}/chunked`, { client });
  assert.equal(chunked.headers.get("x-kind"), "chunked");
  const bytes = await chunked.bytes();
  assert.equal(bytes.byteLength, 2_000_000);
  assert.equal(bytes[0], 0x62);
  assert.equal(bytes[1_999_999], 0x61 + (20 % 26));
  const missing = await fetch(`${base}/nope`, { client });
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const body = new Uint8Array(MIB).fill(3);
  const up = await fetch(`${base}/upload`, { client, method: "POST", body });
  // The relay sends its own fixed host, not the client's.
  assert.equal(await up.text(), `POST ${MIB} ${3 * MIB} host=x`);
  const empty = await fetch(`${base}/upload`, { client, method: "POST", body: "" });
  assert.equal(await empty.text(), "POST 0 0 host=x");
}

Deno.test("relay_listen relays Content-Length and chunked responses and request bodies", async () => {
  await withBackend(async (addr) => {
    const relay = relayListen({ hostname: "127.0.0.1", port: 0, backends: [addr] });
    try {
      await checkRelay(relay.addr.port);
    } finally {
      await relay.close();
    }
  });
});

Deno.test("relay_listen answers 502 when no backend listens", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const relay = relayListen({ hostname: "127.0.0.1", port: 0, backends: [`127.0.0.1:${port}`] });
  try {
    using client = Deno.createHttpClient({});
    const res = await fetch(`http://127.0.0.1:${relay.addr.port}/`, { client });
    assert.equal(res.status, 502);
    await res.body?.cancel();
  } finally {
    await relay.close();
  }
});

Deno.test("relay_serve relays Content-Length and chunked responses and request bodies", async () => {
  await withBackend(async (addr) => {
    const pool = new RelayPool([addr]);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      relayHandler(pool),
    );
    try {
      await checkRelay(server.addr.port);
    } finally {
      await server.shutdown();
      pool.close();
    }
  });
});

/** A drain server in this process, closed with everything it accepted. */
async function withDrain(fn: (port: number) => Promise<void>): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(drainConnection(conn));
  })().catch(() => {});
  try {
    await fn(listener.addr.port);
  } finally {
    listener.close();
    await accepting;
    await Promise.all(conns);
  }
}

Deno.test("big_client uploads through drain.ts and counts only whole requests", async () => {
  await withDrain(async (port) => {
    const r: BigClientResult = await runBigClient({
      url: new URL(`http://127.0.0.1:${port}/big-upload`),
      connections: 2,
      durationMs: 200,
      uploadBytes: 4 * MIB,
      maxRequests: 6,
      timeoutMs: 10_000,
    });
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.requests >= 2 && r.requests <= 6, `requests ${r.requests}`);
    assert.equal(r.bytesSent, r.requests * 4 * MIB);
    assert.equal(r.bytesReceived, r.requests * 3);
    assert.ok(r.latency.p50Ms > 0 && r.latency.maxMs >= r.latency.p99Ms);
  });
});

Deno.test("big_client downloads chunked bodies through relay_listen", async () => {
  await withBackend(async (addr) => {
    const relay = relayListen({ hostname: "127.0.0.1", port: 0, backends: [addr] });
    try {
      const r = await runBigClient({
        url: new URL(`http://127.0.0.1:${relay.addr.port}/chunked`),
        connections: 1,
        durationMs: 1,
        uploadBytes: 0,
        maxRequests: 2,
        timeoutMs: 10_000,
      });
      assert.equal(r.errors, 0, r.firstError);
      assert.equal(r.bytesReceived, r.requests * 2_000_000);
    } finally {
      await relay.close();
    }
  });
});

Deno.test("big_client counts a refused connection as an error, not a request", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const r = await runBigClient({
    url: new URL(`http://127.0.0.1:${port}/`),
    connections: 1,
    durationMs: 50,
    uploadBytes: 0,
    maxRequests: 3,
    timeoutMs: 1000,
  });
  assert.equal(r.requests, 0);
  assert.equal(r.errors, 3);
  assert.match(r.firstError ?? "", /refused/i);
  assert.ok(Number.isNaN(r.latency.p99Ms));
});
