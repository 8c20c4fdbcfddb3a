import assert from "node:assert/strict";
import { BackendLimiter, QueueRejected } from "../lib/resilience/limiter.ts";
import { ClientAbortError } from "../lib/core/transport.ts";

/** Long enough never to fire in a test; every waiter here leaves before it does. */
const NEVER_MS = 60_000;
const signal = () => new AbortController().signal;

/** Settles every pending microtask and one macrotask turn. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("BackendLimiter: max 0 is unlimited and never waits", () => {
  const limiter = new BackendLimiter(0, 0);
  for (let i = 0; i < 1_000; i++) assert.equal(limiter.acquire(NEVER_MS, signal()), undefined);
  assert.equal(limiter.available, true);
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.active, 1_000);
  for (let i = 0; i < 1_000; i++) limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: under the cap acquire returns undefined at once", () => {
  const limiter = new BackendLimiter(3, 10);
  for (let i = 1; i <= 3; i++) {
    assert.equal(limiter.available, true);
    assert.equal(limiter.acquire(NEVER_MS, signal()), undefined);
    assert.equal(limiter.active, i);
  }
  assert.equal(limiter.available, false);
  assert.equal(limiter.waiting, 0);
});

Deno.test("BackendLimiter: at the cap acquire waits, and release hands the slot to it", async () => {
  const limiter = new BackendLimiter(1, 10);
  assert.equal(limiter.acquire(NEVER_MS, signal()), undefined);
  const waiting = limiter.acquire(NEVER_MS, signal());
  assert.ok(waiting instanceof Promise);
  assert.equal(limiter.waiting, 1);
  limiter.release();
  await waiting;
  // The slot passed on: still one in flight, nobody waiting.
  assert.equal(limiter.active, 1);
  assert.equal(limiter.waiting, 0);
  limiter.release();
  assert.equal(limiter.active, 0);
  assert.equal(limiter.available, true);
});

Deno.test("BackendLimiter: waiters get slots in FIFO order", async () => {
  const limiter = new BackendLimiter(2, 10);
  limiter.acquire(NEVER_MS, signal());
  limiter.acquire(NEVER_MS, signal());
  const order: number[] = [];
  const waits = [0, 1, 2, 3].map((n) =>
    limiter.acquire(NEVER_MS, signal())!.then(() => order.push(n))
  );
  assert.equal(limiter.waiting, 4);
  limiter.release();
  await tick();
  assert.deepEqual(order, [0]);
  limiter.release();
  limiter.release();
  await tick();
  assert.deepEqual(order, [0, 1, 2]);
  limiter.release();
  await Promise.all(waits);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(limiter.active, 2);
  assert.equal(limiter.waiting, 0);
  limiter.release();
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: a full queue rejects at once with QueueRejected('full')", async () => {
  const limiter = new BackendLimiter(1, 2);
  limiter.acquire(NEVER_MS, signal());
  const a = limiter.acquire(NEVER_MS, signal())!;
  const b = limiter.acquire(NEVER_MS, signal())!;
  const err = await limiter.acquire(NEVER_MS, signal())!.then(
    () => assert.fail("expected a rejection"),
    (e) => e,
  );
  assert.ok(err instanceof QueueRejected);
  assert.equal(err.reason, "full");
  assert.equal(err.name, "QueueRejected");
  assert.equal(err.message, "backend queue is full");
  assert.equal(limiter.waiting, 2);
  limiter.release();
  limiter.release();
  await Promise.all([a, b]);
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: queue size 0 rejects as soon as the cap is reached", async () => {
  const limiter = new BackendLimiter(1, 0);
  limiter.acquire(NEVER_MS, signal());
  await assert.rejects(
    () => limiter.acquire(NEVER_MS, signal())!,
    (e) => e instanceof QueueRejected && e.reason === "full",
  );
  limiter.release();
});

Deno.test("BackendLimiter: a wait past the timeout rejects with QueueRejected('timeout')", async () => {
  const limiter = new BackendLimiter(1, 5);
  limiter.acquire(NEVER_MS, signal());
  const err = await limiter.acquire(20, signal())!.then(
    () => assert.fail("expected a rejection"),
    (e) => e,
  );
  assert.ok(err instanceof QueueRejected);
  assert.equal(err.reason, "timeout");
  assert.equal(err.message, "timed out waiting for a backend slot");
  // The waiter left the queue; the slot it never got stays with its holder.
  assert.equal(limiter.waiting, 0);
  assert.equal(limiter.active, 1);
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: a timed-out waiter doesn't take a later slot", async () => {
  const limiter = new BackendLimiter(1, 5);
  limiter.acquire(NEVER_MS, signal());
  const early = limiter.acquire(20, signal())!.catch((e) => e);
  const late = limiter.acquire(NEVER_MS, signal())!;
  assert.ok((await early) instanceof QueueRejected);
  limiter.release();
  await late; // the second waiter got it
  assert.equal(limiter.active, 1);
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: abort rejects with ClientAbortError and removes the waiter", async () => {
  const limiter = new BackendLimiter(1, 5);
  limiter.acquire(NEVER_MS, signal());
  const ac = new AbortController();
  const waiting = limiter.acquire(NEVER_MS, ac.signal)!;
  assert.equal(limiter.waiting, 1);
  ac.abort();
  await assert.rejects(() => waiting, ClientAbortError);
  assert.equal(limiter.waiting, 0);
  // The slot is freed, not handed to the waiter that left.
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: aborting a middle waiter keeps the others in order", async () => {
  const limiter = new BackendLimiter(1, 5);
  limiter.acquire(NEVER_MS, signal());
  const order: string[] = [];
  const ac = new AbortController();
  const a = limiter.acquire(NEVER_MS, signal())!.then(() => order.push("a"));
  const b = limiter.acquire(NEVER_MS, ac.signal)!.then(
    () => order.push("b"),
    (e) => order.push(e instanceof ClientAbortError ? "b aborted" : "b ?"),
  );
  const c = limiter.acquire(NEVER_MS, signal())!.then(() => order.push("c"));
  ac.abort();
  await b;
  limiter.release();
  await a;
  limiter.release();
  await c;
  assert.deepEqual(order, ["b aborted", "a", "c"]);
  limiter.release();
  assert.equal(limiter.active, 0);
});

Deno.test("BackendLimiter: aborting after the slot was handed over changes nothing", async () => {
  const limiter = new BackendLimiter(1, 5);
  limiter.acquire(NEVER_MS, signal());
  const ac = new AbortController();
  const waiting = limiter.acquire(NEVER_MS, ac.signal)!;
  limiter.release();
  await waiting;
  ac.abort();
  await tick();
  assert.equal(limiter.active, 1);
  assert.equal(limiter.waiting, 0);
  limiter.release();
  assert.equal(limiter.active, 0);
});

// Regression test for a fixed bug (lib/resilience/limiter.ts:52-75): a signal that is already aborted when
// acquire() has to queue is never noticed, because an "abort" listener added
// after the fact never fires. The request waits out the whole queue timeout
// (then rejects with QueueRejected("timeout")) or takes a slot it will never
// use when release() hands it one. Expected: reject at once with
// ClientAbortError and leave the queue as it was.
Deno.test({
  name: "BackendLimiter: an already-aborted signal rejects at once and doesn't queue",
  fn: async () => {
    const limiter = new BackendLimiter(1, 5);
    limiter.acquire(NEVER_MS, signal());
    const ac = new AbortController();
    ac.abort();
    const waiting = limiter.acquire(50, ac.signal);
    assert.ok(waiting instanceof Promise);
    assert.equal(limiter.waiting, 0);
    await assert.rejects(() => waiting, ClientAbortError);
    limiter.release();
    assert.equal(limiter.active, 0);
  },
});
