/**
 * A dashboard left open does not grow the lb's memory: a real lb process,
 * an SSE client reading `/dashboard/events` for a minute while traffic
 * flows, and the lb's heap (`/status` memoryMiB.heapUsed) compared between
 * the start and the end of that minute. Takes about 65 s.
 *
 * V8 collects the old generation rarely (once in 40 s here with this
 * traffic), so a plain lb's heapUsed climbs with garbage (17 → 54 MiB in
 * 30 s) whether or not anything leaks. The lb runs with `--gc-global`
 * (every collection is a full one) and a 1 MiB young generation, so
 * heapUsed stays close to what is live (about 11 MiB, flat) and a leak
 * shows as growth.
 */

import assert from "node:assert/strict";
import { httpServer } from "../_http.ts";
import { startLb } from "../_lb.ts";

const MINUTE_MS = Number(Deno.env.get("LB_DASHBOARD_SOAK_MS") ?? 60_000);
/** Heap noise between collections (the young generation is 1 MiB). */
const TOLERANCE_MIB = 2;

Deno.test({
  name: "dashboard left open for a minute with traffic: the lb's heap does not grow",
  async fn() {
    await using a = httpServer(() => new Response("a\n"));
    await using b = httpServer(() => new Response("b\n"));
    await using lb = await startLb([a.origin, b.origin], [], {
      DENO_V8_FLAGS: "--gc-global,--max-semi-space-size=1",
    });
    const heap = async () => {
      const res = await fetch(`${lb.adminUrl}/status`);
      return (await res.json()).memoryMiB.heapUsed as number;
    };

    let running = true;
    let requests = 0;
    const load = Array.from({ length: 4 }, async () => {
      while (running) {
        const res = await fetch(`${lb.url}/x`);
        await res.body?.cancel();
        requests++;
        await new Promise((r) => setTimeout(r, 2));
      }
    });

    const abort = new AbortController();
    const res = await fetch(`${lb.adminUrl}/dashboard/events`, { signal: abort.signal });
    assert.equal(res.status, 200);
    let updates = 0;
    let bytes = 0;
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) {
          bytes += chunk.length;
          updates += decoder.decode(chunk, { stream: true }).split("event: update\n").length - 1;
        }
      } catch { /* aborted */ }
    })();

    const samples: { at: number; mib: number }[] = [];
    const start = Date.now();
    while (Date.now() - start < MINUTE_MS) {
      await new Promise((r) => setTimeout(r, 2000));
      samples.push({ at: Date.now() - start, mib: await heap() });
    }
    running = false;
    abort.abort();
    await Promise.all([...load, reading]);

    // The lowest reading of a window is closest to the heap after a collection.
    const low = (from: number, to: number) =>
      Math.min(...samples.filter((s) => s.at >= from && s.at < to).map((s) => s.mib));
    const early = low(MINUTE_MS / 6, MINUTE_MS / 3);
    const late = low(MINUTE_MS * 5 / 6, MINUTE_MS + 5000);
    console.log(
      `heapUsed lowest ${early} MiB at ~10-20 s, ${late} MiB at ~50-60 s; ` +
        `${updates} updates (${Math.round(bytes / 1024)} KiB) read, ${requests} requests sent; ` +
        `every reading: ${samples.map((s) => s.mib).join(" ")}`,
    );
    assert.ok(updates >= (MINUTE_MS / 1000) * 0.8, `about one update a second (got ${updates})`);
    assert.ok(late - early <= TOLERANCE_MIB, `heap grew ${early} → ${late} MiB`);
  },
});
