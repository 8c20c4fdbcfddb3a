/**
 * The access log's line writer (`core/log_file.ts`): whole lines per
 * write, a bounded queue that drops and counts while the disk stalls,
 * failed writes counted and survived, the timed flush, reopening a
 * renamed file (logrotate) without losing a line, a failed reopen keeping
 * the old file, close flushing within its deadline, and two writers on one
 * file (two workers) never splitting a line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileLineWriter, type LineSink, LineWriter } from "../../lib/core/log_file.ts";

const decoder = new TextDecoder();

/** A sink that records each write; `gate` holds writes until released. */
function recorder() {
  const writes: string[] = [];
  let hold: Promise<void> | undefined;
  let release = () => {};
  let fail: Error | undefined;
  const sink: LineSink = {
    async write(p) {
      if (hold) await hold;
      if (fail) throw fail;
      writes.push(decoder.decode(p));
      return p.length;
    },
    close() {},
  };
  return {
    sink,
    writes,
    stall() {
      hold = new Promise((resolve) => release = resolve);
    },
    resume() {
      hold = undefined;
      release();
    },
    failWith(err: Error | undefined) {
      fail = err;
    },
  };
}

function counters() {
  const c = { dropped: 0, failed: [] as string[], wrote: 0, reopened: 0 };
  return {
    c,
    events: {
      dropped: (n: number) => c.dropped += n,
      failed: (what: string) => c.failed.push(what),
      wrote: () => c.wrote++,
      reopened: () => c.reopened++,
    },
  };
}

const line = (i: number) => `line ${String(i).padStart(5, "0")} ${"x".repeat(80)}`;

Deno.test("writes are batches of whole lines, in order, no larger than the batch", async () => {
  const r = recorder();
  const w = new LineWriter(r.sink, { batchBytes: 4096 });
  const lines = Array.from({ length: 500 }, (_, i) => line(i));
  for (const l of lines) w.write(l);
  // One line longer than a batch goes alone, whole.
  const long = "L".repeat(10_000);
  w.write(long);
  w.write("after");
  await w.flush();
  assert.ok(r.writes.length > 10, `batched into ${r.writes.length} writes`);
  for (const chunk of r.writes) {
    assert.ok(chunk.endsWith("\n"));
    assert.ok(new TextEncoder().encode(chunk).length <= 4096 || chunk === long + "\n");
  }
  assert.equal(r.writes.join(""), [...lines, long, "after"].map((l) => l + "\n").join(""));
  assert.equal(w.queued, 0);
  await w.close();
});

Deno.test("a line waits at most flushMs for company", async () => {
  const r = recorder();
  const w = new LineWriter(r.sink, { flushMs: 20 });
  w.write("one");
  w.write("two");
  assert.deepEqual(r.writes, []);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.deepEqual(r.writes, ["one\ntwo\n"]);
  await w.close();
});

Deno.test("a stalled disk: the queue stops at its bound, the rest is dropped and counted", async () => {
  const r = recorder();
  const { c, events } = counters();
  const w = new LineWriter(r.sink, { batchBytes: 1024, maxQueued: 2000, events });
  r.stall();
  w.write("a".repeat(1100)); // over a batch: written at once, and stuck
  await Promise.resolve();
  const fit = Math.floor(2000 / (line(0).length + 1)); // 92 characters with its newline: 21
  for (let i = 0; i < 100; i++) w.write(line(i));
  assert.equal(c.dropped, 100 - fit);
  assert.ok(w.queued <= 2000);
  r.resume();
  await w.flush();
  assert.equal(r.writes.join("").split("\n").length - 1, 1 + fit);
  // Room again: new lines are kept.
  w.write("later");
  await w.flush();
  assert.ok(r.writes.at(-1)!.endsWith("later\n"));
  await w.close();
});

Deno.test("a failed write drops its lines, counts, and the next one carries on", async () => {
  const r = recorder();
  const { c, events } = counters();
  const w = new LineWriter(r.sink, { events });
  r.failWith(new Error("EIO"));
  w.write("lost 1");
  w.write("lost 2");
  await w.flush();
  assert.deepEqual(c.failed, ["write"]);
  assert.equal(c.dropped, 2);
  r.failWith(undefined);
  w.write("kept");
  await w.flush();
  assert.deepEqual(r.writes, ["kept\n"]);
  assert.equal(c.wrote, 1);
  await w.close();
});

Deno.test("close flushes what is queued; a stalled disk can't hold it past its deadline", async () => {
  const r = recorder();
  const w = new LineWriter(r.sink);
  w.write("last words");
  await w.close();
  assert.deepEqual(r.writes, ["last words\n"]);
  w.write("after close");
  assert.equal(w.queued, 0);

  const stuck = recorder();
  const { c, events } = counters();
  const s = new LineWriter(stuck.sink, { batchBytes: 64, events });
  stuck.stall();
  s.write("x".repeat(100)); // in the write that never ends
  s.write("queued 1");
  s.write("queued 2");
  const started = performance.now();
  await s.close(100);
  assert.ok(performance.now() - started < 1000);
  assert.equal(c.dropped, 2);
});

Deno.test("logrotate: rename, reopen, and every line is in one file or the other, whole", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "access.log");
  const { c, events } = counters();
  const w = fileLineWriter(path, { events });
  for (let i = 0; i < 100; i++) w.write(line(i));
  await w.flush();
  await Deno.rename(path, `${path}.1`);
  // Written after the rename but before the reopen: they land in the old file, not lost.
  for (let i = 100; i < 150; i++) w.write(line(i));
  const reopened = w.reopen();
  for (let i = 150; i < 200; i++) w.write(line(i));
  await reopened;
  for (let i = 200; i < 300; i++) w.write(line(i));
  await w.close();
  assert.equal(c.reopened, 1);
  const old = (await Deno.readTextFile(`${path}.1`)).split("\n").slice(0, -1);
  const fresh = (await Deno.readTextFile(path)).split("\n").slice(0, -1);
  assert.deepEqual([...old, ...fresh], Array.from({ length: 300 }, (_, i) => line(i)));
  assert.ok(old.length >= 100 && fresh.length >= 100, `${old.length} + ${fresh.length}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a reopen that fails keeps writing the old file", async () => {
  const dir = await Deno.makeTempDir();
  const sub = join(dir, "logs");
  await Deno.mkdir(sub);
  const path = join(sub, "access.log");
  const { c, events } = counters();
  const w = fileLineWriter(path, { events });
  w.write("before");
  await w.flush();
  await Deno.rename(sub, join(dir, "moved"));
  await w.reopen(); // logs/ is gone: the new file can't be made
  assert.deepEqual(c.failed, ["reopen"]);
  w.write("after");
  await w.close();
  assert.equal(await Deno.readTextFile(join(dir, "moved", "access.log")), "before\nafter\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a path that can't be opened fails at once", () => {
  assert.throws(() => fileLineWriter("/nonexistent-dir/access.log"), Deno.errors.NotFound);
});

Deno.test("two writers appending to one file (two workers) interleave lines, never parts of lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "access.log");
  const a = fileLineWriter(path, { flushMs: 1 });
  const b = fileLineWriter(path, { flushMs: 1 });
  for (let i = 0; i < 3000; i++) {
    a.write(`a ${line(i)}`);
    b.write(`b ${line(i)}`);
    if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all([a.close(), b.close()]);
  const lines = (await Deno.readTextFile(path)).split("\n").slice(0, -1);
  assert.equal(lines.length, 6000);
  const ok = /^[ab] line \d{5} x{80}$/;
  assert.deepEqual(lines.filter((l) => !ok.test(l)), []);
  for (const who of ["a", "b"]) {
    const mine = lines.filter((l) => l.startsWith(who)).map((l) => l.slice(2));
    assert.deepEqual(mine, Array.from({ length: 3000 }, (_, i) => line(i)), `${who} in order`);
  }
  await Deno.remove(dir, { recursive: true });
});
