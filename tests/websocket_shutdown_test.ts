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
