/**
 * Every balancing policy through a real lb process on loopback: weights,
 * least-connections and p2c-ewma steering away from a slow backend, random
 * spreading, sticky cookies following and moving, and the retry budget
 * stopping retries.
 */

import assert from "node:assert/strict";
import { httpServer, rawServer } from "./_http.ts";
import { startLb, waitFor } from "./_lb.ts";

/** A backend answering its name, after `delayMs`. */
function backend(name: string, delayMs = 0) {
  return httpServer(async () => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return new Response(name);
  });
}

/** Sends `n` requests, `concurrency` at a time; counts answers by body. */
async function spread(url: string, n: number, concurrency = 1, init?: RequestInit) {
  const counts: Record<string, number> = {};
  let sent = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (sent < n) {
      sent++;
      const body = await (await fetch(url, init)).text();
      counts[body] = (counts[body] ?? 0) + 1;
    }
  }));
  return counts;
}

Deno.test("weighted round-robin interleaves by weight", async () => {
  await using a = backend("a");
  await using b = backend("b");
  await using lb = await startLb([`${a.origin}=3`, b.origin]);
  const order: string[] = [];
  for (let i = 0; i < 8; i++) order.push(await (await fetch(lb.url)).text());
  assert.deepEqual(order, ["a", "a", "b", "a", "a", "a", "b", "a"]);
});

for (const strategy of ["least-connections", "p2c-ewma"]) {
  Deno.test(`${strategy} sends less traffic to a slow backend`, async () => {
    await using fast = backend("fast");
    await using slow = backend("slow", 150);
    await using lb = await startLb([fast.origin, slow.origin], ["--strategy", strategy]);
    const counts = await spread(lb.url, 120, 8);
    assert.ok((counts.slow ?? 0) < (counts.fast ?? 0) / 2, JSON.stringify(counts));
  });
}

Deno.test("random spreads over every backend", async () => {
  const servers = ["a", "b", "c"].map((n) => backend(n));
  try {
    await using lb = await startLb(servers.map((s) => s.origin), ["--strategy", "random"]);
    const counts = await spread(lb.url, 300);
    for (const n of ["a", "b", "c"]) assert.ok(counts[n] > 60, JSON.stringify(counts));
  } finally {
    await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  }
});

Deno.test("sticky-cookie: the cookie pins a client, and moves it when its backend goes", async () => {
  await using a = backend("a");
  const b = backend("b");
  await using lb = await startLb([a.origin, b.origin], [
    "--strategy",
    "sticky-cookie",
    "--sticky-secret",
    "test-secret",
  ]);
  // Round-robin for the first pick: a, then b.
  await (await fetch(lb.url)).text();
  const first = await fetch(lb.url);
  assert.equal(await first.text(), "b");
  const cookie = first.headers.get("set-cookie")!;
  assert.match(cookie, /^lb_sticky=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax$/);
  const pair = cookie.split(";")[0];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(lb.url, { headers: { cookie: pair } });
    assert.equal(await res.text(), "b");
    assert.equal(res.headers.get("set-cookie"), null);
  }
  await b[Symbol.asyncDispose]();
  await waitFor(
    async () => {
      const s = await (await fetch(`${lb.adminUrl}/status`)).json();
      return s.backends[1].state === "down";
    },
    5000,
    "b down",
  );
  const moved = await fetch(lb.url, { headers: { cookie: pair } });
  assert.equal(await moved.text(), "a");
  assert.notEqual(moved.headers.get("set-cookie"), null);
  assert.notEqual(moved.headers.get("set-cookie")!.split(";")[0], pair);
});

Deno.test("the retry budget stops retries and is counted", async () => {
  await using reset = rawServer(async () => {}); // closes without answering
  await using good = backend("good");
  await using lb = await startLb([reset.origin, good.origin], [
    "--retry-budget",
    "0",
    "--retry-budget-min",
    "0",
    "--eject-after",
    "0",
  ]);
  // The first request goes to the resetting backend; with no budget it is not retried.
  const res = await fetch(lb.url);
  await res.body?.cancel();
  assert.equal(res.status, 502);
  const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text();
  assert.match(metrics, /lb_retry_budget_exhausted_total 1/);
});
