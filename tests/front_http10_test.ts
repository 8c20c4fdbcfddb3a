/**
 * HTTP/1.0 clients on the h1 front (RFC 9112 §9.3): a connection persists
 * only with `Connection: keep-alive`, and then the reply says so, or the
 * client would take the connection for closed; without it the reply says
 * `close` and the connection ends. A request without Host is served with
 * the address the client connected to as its authority.
 */

import assert from "node:assert/strict";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";
import { client } from "./_slow.ts";

Deno.test("h1 front: HTTP/1.0 keep-alive is answered with Connection: keep-alive, else close", async () => {
  await using backend = httpServer((req) => new Response(`host=${req.headers.get("host")}`));
  await using lb = await startLb([backend.origin]);

  using kept = await client(lb.port);
  for (const path of ["/a", "/b"]) {
    await kept.send(`GET ${path} HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n`);
    const res = await kept.response();
    assert.equal(res?.status, 200);
    assert.equal(res?.header("connection"), "keep-alive");
    assert.equal(res?.body, "host=h");
  }

  using once = await client(lb.port);
  await once.send("GET / HTTP/1.0\r\n\r\n");
  const res = await once.response();
  assert.equal(res?.status, 200);
  assert.equal(res?.header("connection"), "close");
  assert.equal(res?.body, `host=127.0.0.1:${lb.port}`);
  assert.equal(await once.eof(), true);
});
