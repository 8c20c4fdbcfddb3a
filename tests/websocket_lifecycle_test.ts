/**
 * WebSocket tunnels over their life: one survives SIGTERM until
 * `--shutdown-timeout` and then gets 1001; one survives a config reload;
 * one whose peer stops reading is cut off at `--ws-max-buffer`.
 */

import assert from "node:assert/strict";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";

Deno.test("an open WebSocket tunnel survives SIGTERM until the shutdown timeout", async () => {
  await using backend = httpServer((req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    return response;
  });
  const lb = await startLb([backend.origin], [
    "--front",
    "deno-serve",
    "--shutdown-timeout",
    "1500ms",
  ]);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${lb.port}/`);
    const messages: string[] = [];
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.onmessage = (e) => messages.push(String(e.data));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const signalledAt = Date.now();
    lb.proc.signal("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    ws.send("still here");
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(messages, ["echo still here"]);
    const event = await closed;
    assert.equal(event.code, 1001);
    assert.ok(Date.now() - signalledAt >= 1200, "closed before the shutdown timeout");
    const status = await lb.proc.child.status;
    assert.ok(status.code === 0 || status.code === 1, `exit ${status.code}`);
  } finally {
    await lb.stop();
  }
});

Deno.test("a config reload leaves an open WebSocket tunnel running", async () => {
  await using backend = httpServer((req) => {
    if (req.headers.get("upgrade") !== "websocket") return new Response("plain");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    return response;
  });
  await using other = httpServer(() => new Response("other"));
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await Deno.writeTextFile(path, JSON.stringify({ backends: [backend.origin] }));
    await using lb = await startLb([], ["--front", "deno-serve", "--config", path]);
    const ws = new WebSocket(`ws://127.0.0.1:${lb.port}/`);
    const messages: string[] = [];
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    ws.onmessage = (e) => messages.push(String(e.data));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    // Replace the whole configuration: another strategy and another backend set.
    await Deno.writeTextFile(
      `${path}.tmp`,
      JSON.stringify({ backends: [other.origin], strategy: "least-connections" }),
    );
    await Deno.rename(`${path}.tmp`, path);
    await lb.proc.waitForLine(/configuration reloaded/, 5000);
    assert.equal(await (await fetch(lb.url)).text(), "other");
    ws.send("after reload");
    const deadline = Date.now() + 3000;
    while (messages.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(messages, ["echo after reload"]);
    ws.close(1000);
    await closed;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a WebSocket peer that stops reading is cut off at --ws-max-buffer", async () => {
  // The backend floods the tunnel as soon as it opens.
  await using backend = httpServer((req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 256 && socket.readyState === WebSocket.OPEN; i++) socket.send(chunk);
    };
    socket.onerror = () => {};
    return response;
  });
  await using lb = await startLb([backend.origin], [
    "--front",
    "deno-serve",
    "--ws-max-buffer",
    "256KiB",
  ]);
  // A raw client that completes the handshake and then never reads.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.port });
  try {
    const handshake = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    await conn.write(new TextEncoder().encode(handshake));
    const head = new Uint8Array(512);
    const n = await conn.read(head);
    assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
    const deadline = Date.now() + 10_000;
    let closedByLimit = false;
    while (!closedByLimit && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text();
      closedByLimit = /lb_websocket_tunnels_closed_total\{reason="buffer_overflow"\} 1/.test(
        metrics,
      );
    }
    assert.ok(closedByLimit, "the tunnel was not closed for its buffer");
  } finally {
    conn.close();
  }
});
