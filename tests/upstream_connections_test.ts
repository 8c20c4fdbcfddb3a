/**
 * `--upstream-connections`: the h1 transport's cap on connections per
 * backend. At the cap, requests wait for a free connection (so a backend
 * never sees more concurrent requests than that); 0 lifts the cap, which
 * long-lived streams need.
 */

import assert from "node:assert/strict";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";

for (const [cap, expected] of [["1", 1], ["0", 4]] as const) {
  Deno.test(`--upstream-connections ${cap}: the backend sees at most ${expected} at once`, async () => {
    let active = 0;
    let peak = 0;
    await using backend = httpServer(async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 200));
      active--;
      return new Response("ok");
    });
    await using lb = await startLb([backend.origin], ["--upstream-connections", cap]);
    const statuses = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await fetch(lb.url);
        await res.body?.cancel();
        return res.status;
      }),
    );
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    assert.equal(peak, expected);
  });
}
