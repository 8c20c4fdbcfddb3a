/**
 * WebSocket tunnelling through a real lb: subprotocol negotiation end to
 * end, ordered text and binary echo, a 1 MiB message, close codes both ways
 * (including codes Deno's client socket can't send), a killed backend, the
 * idle timeout, and the tunnel metrics.
 */

import assert from "node:assert/strict";
import { closeCodeToBackend } from "../lib/proxy/websocket.ts";
import { startLb, waitFor } from "./_lb.ts";
import { startDeno } from "./_process.ts";

/** A client socket with its messages and its close event as promises. */
interface Client {
  readonly ws: WebSocket;
  /** The next message (in arrival order). */
  next(): Promise<string | ArrayBuffer>;
  readonly closed: Promise<CloseEvent>;
}

async function connect(url: string, protocols?: string[]): Promise<Client> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const inbox: (string | ArrayBuffer)[] = [];
  let wake: (() => void) | undefined;
  ws.onmessage = (e) => {
    inbox.push(e.data);
    wake?.();
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
  });
  ws.onerror = null;
  const next = async () => {
    while (inbox.length === 0) await new Promise<void>((r) => wake = r);
    return inbox.shift()!;
  };
  return { ws, next, closed };
}

async function metric(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

Deno.test("close codes Deno's client socket refuses map into 4000-4999", () => {
  assert.equal(closeCodeToBackend(1000), 1000);
  assert.equal(closeCodeToBackend(1001), 4001);
  assert.equal(closeCodeToBackend(1011), 4011);
  assert.equal(closeCodeToBackend(4321), 4321);
  assert.equal(closeCodeToBackend(3000), 3000);
  assert.equal(closeCodeToBackend(1005), undefined);
});

Deno.test("WebSocket tunnels through the lb to the demo backend", async (t) => {
  const backend = await startDeno("backend.ts", ["--host", "127.0.0.1", "--port", "0"]);
  const lb = await startLb([`http://127.0.0.1:${backend.port}`], ["--front", "deno-serve"]);
  const base = lb.url.replace("http", "ws");
  try {
    await t.step("the backend's subprotocol choice reaches the client", async () => {
      const c = await connect(`${base}/ws`, ["chat", "echo"]);
      assert.equal(c.ws.protocol, "echo");
      c.ws.close();
      await c.closed;
      const plain = await connect(`${base}/ws`);
      assert.equal(plain.ws.protocol, "");
      plain.ws.close();
      await plain.closed;
    });

    await t.step("100 text and binary messages come back in order, as sent", async () => {
      const c = await connect(`${base}/ws`);
      for (let i = 0; i < 100; i++) {
        c.ws.send(i % 2 === 0 ? `message ${i}` : new Uint8Array([i, i + 1, i + 2]));
      }
      for (let i = 0; i < 100; i++) {
        const got = await c.next();
        if (i % 2 === 0) assert.equal(got, `message ${i}`);
        else {assert.deepEqual(
            new Uint8Array(got as ArrayBuffer),
            new Uint8Array([i, i + 1, i + 2]),
          );}
      }
      c.ws.close(1000, "done");
      const e = await c.closed;
      assert.equal(e.code, 1000);
    });

    await t.step("a 1 MiB message comes back byte-exact", async () => {
      const c = await connect(`${base}/ws`);
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
      c.ws.send(big);
      assert.deepEqual(new Uint8Array(await c.next() as ArrayBuffer), big);
      c.ws.close();
      await c.closed;
    });

    await t.step("the backend's close code and reason reach the client", async () => {
      // 1001 and 1011 are codes the lb's own client socket could not send.
      for (const code of [1000, 1001, 1011, 4100]) {
        const c = await connect(`${base}/ws?close=${code}`);
        const e = await c.closed;
        assert.equal(e.code, code);
        assert.equal(e.reason, `closed by request (${code})`);
      }
    });

    await t.step("a killed backend closes the client with 1011", async () => {
      const c = await connect(`${base}/ws`);
      c.ws.send("hello");
      assert.equal(await c.next(), "hello");
      await backend.stop("SIGKILL");
      const e = await c.closed;
      assert.ok(e.code === 1011 || e.code === 1014, `close code ${e.code}`);
    });

    await t.step("with the backend gone, an upgrade is refused without upgrading", async () => {
      await assert.rejects(connect(`${base}/ws`), /Invalid status code: 50[23]/);
    });

    await t.step("metrics count messages and show no tunnel left open", async () => {
      await waitFor(async () => await metric(lb.adminUrl, "lb_websocket_tunnels_open") === 0);
      const up = await metric(
        lb.adminUrl,
        'lb_websocket_messages_total{direction="client_to_backend"}',
      );
      assert.ok(up >= 102, `client_to_backend messages: ${up}`);
      const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
      assert.match(text, /lb_websocket_tunnels_closed_total\{reason="backend_gone"\} 1/);
      assert.match(text, /lb_websocket_bytes_total\{direction="backend_to_client"\} \d{7,}/);
    });
  } finally {
    await lb.stop();
    await backend.stop();
  }
});

Deno.test("client close codes reach the backend; idle tunnels are closed", async (t) => {
  const seen: { code: number; reason: string }[] = [];
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    socket.onclose = (e) => seen.push({ code: e.code, reason: e.reason });
    return response;
  });
  const lb = await startLb([`http://127.0.0.1:${backend.addr.port}`], [
    "--front",
    "deno-serve",
    "--ws-idle-timeout",
    "300ms",
  ]);
  const base = lb.url.replace("http", "ws");
  try {
    await t.step("the client's code and reason reach the backend and come back", async () => {
      const c = await connect(`${base}/`);
      c.ws.close(4321, "bye now");
      const e = await c.closed;
      assert.equal(e.code, 4321);
      assert.equal(e.reason, "bye now");
      await waitFor(() => seen.length === 1, 2000, "the backend's close event");
      assert.deepEqual(seen[0], { code: 4321, reason: "bye now" });
    });

    await t.step("a tunnel idle for --ws-idle-timeout is closed with 1001", async () => {
      const c = await connect(`${base}/`);
      c.ws.send("ping");
      assert.equal(await c.next(), "ping");
      const start = performance.now();
      const e = await c.closed;
      const waited = performance.now() - start;
      assert.equal(e.code, 1001);
      assert.equal(e.reason, "idle timeout");
      assert.ok(waited >= 250 && waited < 2000, `closed after ${waited} ms`);
      // The backend is told too, with 1001 mapped for Deno's client socket.
      await waitFor(() => seen.length === 2, 2000, "the backend's close event");
      assert.deepEqual(seen[1], { code: 4001, reason: "idle timeout" });
    });
  } finally {
    await lb.stop();
    await backend.shutdown();
  }
});
