/**
 * The pooled head buffers (`lib/http1/head_writes.ts`) that the h1 front's
 * replies and the h1 transport's request heads are written from: a buffer
 * serves one write at a time, so heads written at once never share one; it
 * is reused only after its write went out, never after a write that failed
 * (the socket might still read it).
 */

import assert from "node:assert/strict";
import { type ReplySink, writeReply } from "../lib/front/h1/reply_writer.ts";
import type { ProxyReply } from "../lib/core/message.ts";
import { encodeHead, sendHead, writeHead } from "../lib/http1/head_writes.ts";
import { requestHead } from "../lib/transport/h1/request.ts";

const decoder = new TextDecoder();

function reply(text: string): ProxyReply {
  return {
    status: 200,
    headers: [["content-type", "text/plain"]],
    body: new TextEncoder().encode(text),
  };
}

/** A sink whose writes wait until released, keeping what they were given. */
function slowSink(fail = false) {
  const writes: Uint8Array[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const sink: ReplySink = {
    async write(data) {
      writes.push(data);
      await gate;
      if (fail) throw new Error("connection reset");
    },
  };
  return { sink, writes, release };
}

Deno.test("reply buffers: replies written at once each have their own buffer", async () => {
  const sinks = [slowSink(), slowSink(), slowSink()];
  const sending = sinks.map((s, i) => writeReply(s.sink, "GET", 1, reply(`body-${i}`), false));
  const buffers = sinks.map((s) => s.writes[0].buffer);
  assert.equal(new Set(buffers).size, 3, "no two pending writes share a buffer");
  for (const [i, s] of sinks.entries()) {
    assert.match(decoder.decode(s.writes[0]), new RegExp(`\\r\\n\\r\\nbody-${i}$`));
  }
  sinks.forEach((s) => s.release());
  await Promise.all(sending);
});

Deno.test("reply buffers: a buffer is reused after its write went out, not after a failed one", async () => {
  const ok = slowSink();
  const first = writeReply(ok.sink, "GET", 1, reply("one"), false);
  ok.release();
  assert.deepEqual(await first, { bytes: 3, reusable: true });
  const next = slowSink();
  const second = writeReply(next.sink, "GET", 1, reply("two"), false);
  assert.equal(next.writes[0].buffer, ok.writes[0].buffer, "the written one is taken again");
  next.release();
  await second;

  const broken = slowSink(true);
  const failed = writeReply(broken.sink, "GET", 1, reply("three"), false);
  broken.release();
  assert.equal((await failed).reusable, false);
  const after = slowSink();
  const fourth = writeReply(after.sink, "GET", 1, reply("four"), false);
  assert.notEqual(after.writes[0].buffer, broken.writes[0].buffer, "a failed write's is not");
  assert.match(decoder.decode(broken.writes[0]), /three$/, "and is left as it was written");
  after.release();
  await fourth;
});

Deno.test("reply buffers: a reply larger than a pooled buffer goes out whole in one write", async () => {
  const big = "x".repeat(10_000);
  const s = slowSink();
  const sending = writeReply(s.sink, "GET", 1, reply(big), false);
  s.release();
  assert.deepEqual(await sending, { bytes: 10_000, reusable: true });
  assert.equal(s.writes.length, 1);
  assert.ok(decoder.decode(s.writes[0]).endsWith(`\r\n\r\n${big}`));
});

Deno.test("head buffers: a request head and a reply in flight at once have their own buffers", async () => {
  const upstream = slowSink();
  const client = slowSink();
  const head = requestHead("POST", "/up", [["host", "b"], ["content-length", "4"]], "length");
  const sendingRequest = writeHead(upstream.sink, head, new TextEncoder().encode("ping"));
  const sendingReply = writeReply(client.sink, "GET", 1, reply("pong"), false);
  assert.notEqual(upstream.writes[0].buffer, client.writes[0].buffer);
  assert.equal(
    decoder.decode(upstream.writes[0]),
    "POST /up HTTP/1.1\r\nhost: b\r\ncontent-length: 4\r\n\r\nping",
  );
  upstream.release();
  client.release();
  await Promise.all([sendingRequest, sendingReply]);
});

Deno.test("head buffers: a failed request write rejects, and its buffer is not handed out again", async () => {
  const broken = slowSink(true);
  const failed = writeHead(broken.sink, requestHead("GET", "/", [["host", "b"]], "none"));
  broken.release();
  await assert.rejects(failed, /connection reset/);
  const next = slowSink();
  const sending = writeHead(next.sink, requestHead("GET", "/next", [["host", "b"]], "none"));
  assert.notEqual(next.writes[0].buffer, broken.writes[0].buffer);
  assert.equal(decoder.decode(broken.writes[0]), "GET / HTTP/1.1\r\nhost: b\r\n\r\n");
  next.release();
  await sending;
});

Deno.test("head buffers: a head that can't be encoded throws before any write", () => {
  assert.throws(() => encodeHead("GET / HTTP/1.1\r\nx: \u0100\r\n\r\n"), /outside latin1/);
});

Deno.test("head buffers: a buffer goes back only from a head that fitted one", async () => {
  const small = slowSink();
  const big = slowSink();
  const sending = [
    sendHead(small.sink, encodeHead("HTTP/1.1 204 No Content\r\n\r\n")),
    sendHead(big.sink, encodeHead(`x: ${"y".repeat(3000)}\r\n`)),
  ];
  small.release();
  big.release();
  await Promise.all(sending);
  const next = [encodeHead("a"), encodeHead("b")];
  const pooled = next.map((b) => b.buffer);
  assert.ok(pooled.includes(small.writes[0].buffer), "the small one is taken again");
  assert.ok(!pooled.includes(big.writes[0].buffer), "the large one never is");
  assert.equal(big.writes[0].length, 3005);
});
