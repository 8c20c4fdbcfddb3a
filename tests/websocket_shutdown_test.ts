/**
 * Graceful shutdown with an open WebSocket tunnel: the tunnel keeps working
 * after SIGTERM until `--shutdown-timeout`, then the client gets 1001, and
 * the lb exits.
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
  const lb = await startLb([backend.origin], ["--shutdown-timeout", "1500ms"]);
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
    await using lb = await startLb([], ["--config", path]);
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
