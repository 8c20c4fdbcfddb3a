/**
 * WebSocket handshakes pass a route's policies on both fronts: the h1
 * front's upgrades run through the proxy core like any request, and the
 * `Deno.serve` front's through `openTunnel`, which must not be a way round
 * an address rule or a password.
 */

import assert from "node:assert/strict";
import { rawRequest } from "../_http.ts";
import { startLb } from "../_lb.ts";
import { withConfig } from "./_config.ts";

const AUTH = `Basic ${btoa("test:secret")}`;
const HASH = "$2a$05$5wLQScVqe0RYiYtES9/tBOaWR6ogwcz/MRLUTKSbWxleQr.bQdC3S"; // "secret"

function echoServer() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (req.headers.get("upgrade") !== "websocket") return new Response("ok");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const handshake = (path: string, extra: string[] = []) => [
  `GET ${path} HTTP/1.1`,
  "Host: a",
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Version: 13",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  ...extra,
];

for (const front of ["h1", "deno-serve"] as const) {
  Deno.test(`[${front}] a WebSocket handshake is refused by the route's ip and basic-auth policies, and passes with them`, async () => {
    await using be = echoServer();
    const dir = await Deno.makeTempDir();
    const config = `${dir}/lb.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        policies: { "request-id": true, "basic-auth": { users: { test: HASH } } },
        routes: [
          {
            name: "closed",
            match: { "path-prefix": "/closed" },
            pool: "default",
            policies: { ip: { deny: ["127.0.0.0/8"] } },
          },
          { name: "ws", match: {}, pool: "default" },
        ],
      }),
    );
    try {
      await using lb = await startLb([be.origin], ["--front", front, "--config", config]);
      const denied = await rawRequest(lb.port, handshake("/closed", [`Authorization: ${AUTH}`]));
      assert.equal(denied.status, 403);
      const anonymous = await rawRequest(lb.port, handshake("/ws"));
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.header("www-authenticate") ?? "", /^Basic realm=/);
      assert.ok(anonymous.header("x-request-id"), "refusals carry the request ID");

      // With the password the tunnel opens and carries messages.
      const ws = new WebSocket(lb.url.replace("http", "ws") + "/ws", {
        headers: { authorization: AUTH },
      });
      const echoed = new Promise<string>((resolve, reject) => {
        ws.onopen = () => ws.send("ping");
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onerror = () => reject(new Error("WebSocket failed"));
      });
      assert.equal(await echoed, "ping");
      const closed = new Promise((r) => ws.onclose = r);
      ws.close();
      await closed;
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (const front of ["h1", "deno-serve"] as const) {
  Deno.test(`[${front}] a WebSocket handshake that fails upstream still passes the policies' response side`, async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
    l.close();
    await withConfig({ policies: { "request-id": true } }, async (config) => {
      await using lb = await startLb([dead], [
        "--front",
        front,
        "--config",
        config,
        "--health-fall",
        "3",
        "--health-interval",
        "10s",
      ]);
      const res = await rawRequest(lb.port, handshake("/ws"));
      assert.equal(res.status, 502);
      assert.match(res.header("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    });
  });
}
