/**
 * The h1 front's pooled reply buffers (`lib/front/h1/reply_writer.ts`): a
 * buffer serves one write at a time, so replies written at once never share
 * one; it is reused only after its write went out, never after a write that
 * failed (the socket might still read it).
 */

import assert from "node:assert/strict";
import { type ReplySink, writeReply } from "../lib/front/h1/reply_writer.ts";
import type { ProxyReply } from "../lib/core/message.ts";

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
