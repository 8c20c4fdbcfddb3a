/**
 * A real browser through the load balancer: headless Chromium (Debian's
 * `chromium`, driven by `playwright-core`) opens a page served through the
 * lb, exchanges WebSocket messages through the lb's tunnel and receives
 * server-sent events as they are sent. Skips, saying so, without Chromium.
 */

import assert from "node:assert/strict";
import { chromiumInstalled, launchChromium } from "./_browser.ts";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";

const haveChromium = chromiumInstalled("browser_test");

const PAGE = `<!doctype html>
<html><body>
<ul id="ws"></ul><ul id="sse"></ul>
<script>
  const log = (id, text) => {
    const li = document.createElement("li");
    li.textContent = text;
    document.getElementById(id).append(li);
  };
  const ws = new WebSocket("ws://" + location.host + "/ws", ["chat"]);
  ws.onopen = () => { log("ws", "open " + ws.protocol); ws.send("ping-1"); ws.send("ping-2"); };
  ws.onmessage = (e) => log("ws", "got " + e.data);
  const es = new EventSource("/events");
  es.onmessage = (e) => { log("sse", e.data); if (e.data === "3") es.close(); };
</script>
</body></html>`;

Deno.test({
  name: "a browser page through the lb: WebSocket messages and server-sent events",
  ignore: !haveChromium,
  async fn() {
    await using backend = httpServer((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ws") {
        const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "chat" });
        socket.onmessage = (e) => socket.send(`echo ${e.data}`);
        return response;
      }
      if (path === "/events") {
        let n = 0;
        let timer: ReturnType<typeof setInterval> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            timer = setInterval(() => {
              n++;
              c.enqueue(new TextEncoder().encode(`data: ${n}\n\n`));
              if (n === 3) {
                clearInterval(timer);
                c.close();
              }
            }, 100);
          },
          cancel() {
            clearInterval(timer);
          },
        });
        return new Response(body, {
          headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
        });
      }
      return new Response(PAGE, { headers: { "content-type": "text/html" } });
    });
    await using lb = await startLb([backend.origin]);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(lb.url);
      // Page-side code as strings: the test itself has no DOM types.
      const items = (id: string) =>
        `[...document.querySelectorAll("#${id} li")].map((e) => e.textContent)`;
      await page.waitForFunction(`${items("ws")}.length >= 3`, null, { timeout: 10_000 });
      await page.waitForFunction(`${items("sse")}.length >= 3`, null, { timeout: 10_000 });
      const ws = await page.evaluate(items("ws")) as string[];
      const sse = await page.evaluate(items("sse")) as string[];
      assert.deepEqual(ws, ["open chat", "got echo ping-1", "got echo ping-2"]);
      assert.deepEqual(sse.slice(0, 3), ["1", "2", "3"]);
    } finally {
      await browser.close();
    }
  },
});
