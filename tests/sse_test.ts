/**
 * Server-sent events through a real lb: each event reaches the client when
 * the backend sends it (nothing buffers the stream), and a client that goes
 * away stops the backend's stream.
 */

import assert from "node:assert/strict";
import { startLb, waitFor } from "./_lb.ts";
import { startDeno } from "./_process.ts";

Deno.test("SSE events arrive one by one as the backend sends them", async () => {
  const backend = await startDeno("backend.ts", ["--host", "127.0.0.1", "--port", "0"]);
  const lb = await startLb([`http://127.0.0.1:${backend.port}`]);
  try {
    const start = performance.now();
    const res = await fetch(`${lb.url}/stream?count=5&interval=200ms`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const arrivals: number[] = [];
    let text = "";
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      // One timestamp per complete event (events end with a blank line).
      while (arrivals.length < text.split("\n\n").length - 1) arrivals.push(performance.now());
    }
    assert.equal(arrivals.length, 5, text);
    // The stream takes 800 ms; the first event must come long before that.
    assert.ok(arrivals[0] - start < 400, `first event after ${arrivals[0] - start} ms`);
    for (let i = 1; i < arrivals.length; i++) {
      const gap = arrivals[i] - arrivals[i - 1];
      assert.ok(gap >= 150, `event ${i + 1} came ${gap} ms after the one before`);
    }
  } finally {
    await lb.stop();
    await backend.stop();
  }
});

Deno.test("a client that goes away stops the backend's event stream", async () => {
  let cancelled: (reason: unknown) => void = () => {};
  const cancel = new Promise((resolve) => cancelled = resolve);
  let sent = 0;
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        timer = setInterval(() => {
          sent++;
          controller.enqueue(new TextEncoder().encode(`data: ${sent}\n\n`));
        }, 50);
      },
      cancel(reason) {
        clearInterval(timer);
        cancelled(reason);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const lb = await startLb([`http://127.0.0.1:${backend.addr.port}`]);
  try {
    const abort = new AbortController();
    const res = await fetch(`${lb.url}/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
    let stopped = false;
    cancel.then(() => stopped = true);
    await waitFor(() => stopped, 5000, "the backend's stream to be cancelled");
    const after = sent;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sent, after, "the backend kept sending after the client left");
  } finally {
    await lb.stop();
    await backend.shutdown();
  }
});
