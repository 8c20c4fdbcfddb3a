/**
 * Rate limits shared through a real `redis-server` by real lb processes:
 * two lbs sharing one limit let through the limit, not twice it (and
 * without the store they would); worker threads share it the same way; a
 * stopped Redis costs at most the timeout per check until the circuit
 * opens; a killed one makes `on-error: open` fall back to local buckets and
 * `closed` answer 503; and when Redis comes back the buckets are shared
 * again. Skipped, saying so, without `/usr/bin/redis-server`.
 */

import assert from "node:assert/strict";
import { withConfig } from "./_config.ts";
import { type LbProcess, startLb, waitFor } from "../_lb.ts";
import { httpServer, rawRequest } from "../_http.ts";
import { HAVE_REDIS, startRedis } from "../_redis.ts";
import { metric } from "../routes/_routes.ts";

const ignore = !HAVE_REDIS;

interface Got {
  readonly status: number;
  readonly ms: number;
  readonly headers: Headers;
}

async function get(lb: LbProcess, path: string, client: string): Promise<Got> {
  const t0 = performance.now();
  const res = await fetch(`${lb.url}${path}`, { headers: { "x-client": client } });
  await res.body?.cancel();
  return { status: res.status, ms: performance.now() - t0, headers: res.headers };
}

const count = (all: readonly Got[], status: number) =>
  all.filter((r) => r.status === status).length;

async function metrics(lb: LbProcess): Promise<string> {
  return await (await fetch(`${lb.adminUrl}/metrics`)).text();
}

Deno.test({
  name: "redis: two lb processes sharing one limit let through the limit, not twice it",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using be = httpServer(() => new Response("ok\n"));
    const limit = { limit: 10, period: "1h", key: ["header:x-client"] };
    const config = {
      backends: [be.origin],
      routes: [
        {
          name: "shared",
          match: { "path-prefix": "/shared" },
          pool: "default",
          policies: { "rate-limit": { ...limit, store: { url: redis.url, timeout: "1s" } } },
        },
        { name: "local", match: {}, pool: "default", policies: { "rate-limit": limit } },
      ],
    };
    await withConfig(config, async (path) => {
      await using a = await startLb([], ["--config", path]);
      await using b = await startLb([], ["--config", path]);
      const burst = (route: string) =>
        Promise.all(Array.from({ length: 30 }, (_, i) => get(i % 2 ? a : b, route, "same")));
      const shared = await burst("/shared/x");
      assert.equal(count(shared, 200), 10, shared.map((r) => r.status).join(","));
      assert.equal(count(shared, 429), 20);
      // Each lb's answers count down the one bucket: the remaining values are 9..0, once each.
      const left = shared.filter((r) => r.status === 200).map((r) =>
        Number(/;r=(\d+)/.exec(r.headers.get("ratelimit")!)![1])
      );
      assert.deepEqual(left.sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Without the store, each process has its own bucket: twice the limit.
      const local = await burst("/local");
      assert.equal(count(local, 200), 20);
      // One key in Redis, under the policy's name; it expires once it would have refilled.
      assert.equal(await redis.cli("DBSIZE"), "1");
      assert.equal(await redis.cli("EXISTS", "lb:rl:shared\nsame"), "1");
      const denied = metric(await metrics(a), "lb_policy_denied_total", { route: "shared" }) +
        metric(await metrics(b), "lb_policy_denied_total", { route: "shared" });
      assert.equal(denied, 20);
    });
  },
});

Deno.test({
  name:
    "redis: with --workers 2, worker threads share the store's limit exactly (local buckets are per thread)",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using be = httpServer(() => new Response("ok\n"));
    const limit = { limit: 8, period: "1h", key: ["route"] };
    const config = {
      backends: [be.origin],
      routes: [
        {
          name: "shared",
          match: { "path-prefix": "/shared" },
          pool: "default",
          policies: { "rate-limit": { ...limit, store: { url: redis.url, timeout: "1s" } } },
        },
        { name: "local", match: {}, pool: "default", policies: { "rate-limit": limit } },
      ],
    };
    await withConfig(config, async (path) => {
      await using lb = await startLb([], ["--config", path, "--workers", "2"]);
      // A connection each, so the kernel spreads them over both workers' listeners.
      const burst = (target: string) =>
        Promise.all(
          Array.from({ length: 40 }, () =>
            rawRequest(lb.port, [`GET ${target} HTTP/1.1`, "Host: x"])),
        );
      const shared = await burst("/shared");
      const ok = shared.filter((r) => r.status === 200).length;
      assert.equal(ok, 8, shared.map((r) => r.status).join(","));
      assert.equal(shared.filter((r) => r.status === 429).length, 32);
      // The control: each worker's own buckets let 8 through, so both served and more passed.
      const local = (await burst("/local")).filter((r) => r.status === 200).length;
      assert.ok(local > 8 && local <= 16, `local: ${local}`);
    });
  },
});

Deno.test({
  name:
    "redis: stopped, each check waits at most the timeout until the circuit opens; killed, open falls back to local buckets and closed answers 503; back, shared again",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using be = httpServer(() => new Response("ok\n"));
    const store = (onError: string) => ({
      url: redis.url,
      timeout: "300ms",
      "on-error": onError,
      failures: 2,
      "cool-down": "500ms",
    });
    const policy = (onError: string) => ({
      "rate-limit": { limit: 3, period: "1h", key: ["header:x-client"], store: store(onError) },
    });
    const config = {
      backends: [be.origin],
      routes: [
        {
          name: "open",
          match: { "path-prefix": "/open" },
          pool: "default",
          policies: policy("open"),
        },
        { name: "closed", match: {}, pool: "default", policies: policy("closed") },
      ],
    };
    await withConfig(config, async (path) => {
      await using lb = await startLb([], ["--config", path]);
      const series = async (route: string, client: string, n: number) => {
        const out: Got[] = [];
        for (let i = 0; i < n; i++) out.push(await get(lb, route, client));
        return out;
      };
      // Up: the store decides.
      const up = await series("/open", "p1", 4);
      assert.deepEqual(up.map((r) => r.status), [200, 200, 200, 429]);
      assert.equal(await redis.cli("EXISTS", "lb:rl:open\np1"), "1");

      // Stopped (SIGSTOP: the socket stays, nothing answers): two checks pay the
      // 300 ms timeout, then the circuit is open and the local bucket answers at once.
      redis.pause();
      const slow = await series("/open", "p2", 6);
      assert.deepEqual(slow.map((r) => r.status), [200, 200, 200, 429, 429, 429]);
      const ms = slow.map((r) => Math.round(r.ms));
      assert.ok(ms[0] >= 290 && ms[1] >= 290, `the first two waited the timeout: ${ms}`);
      assert.ok(ms.every((t) => t < 1500), `bounded: ${ms}`);
      assert.ok(ms.slice(2).every((t) => t < 250), `then no wait at all: ${ms}`);
      await lb.proc.waitForLine(/rate-limit store .* failed 2 times in a row/);

      // Killed: the store is gone; open lets the local bucket decide (p1 was
      // counted by Redis, so locally it starts full), closed answers 503.
      redis.resume();
      await redis.kill();
      assert.equal((await get(lb, "/open/x", "p1")).status, 200);
      const refused = await get(lb, "/closed", "p3");
      assert.equal(refused.status, 503);
      // This route's circuit is not open yet (one failure of two): the shortest wait, a second.
      assert.equal(refused.headers.get("retry-after"), "1");
      assert.equal(refused.headers.get("ratelimit"), null);

      // Back (empty): after a cool-down one probe finds it, and both routes share again.
      await redis.restart();
      await waitFor(async () => (await get(lb, "/closed", "p4")).status === 200, 10_000, "closed");
      // The open route answers either way; the key in Redis shows the store decided again.
      await waitFor(
        async () => {
          await get(lb, "/open/x", "p5");
          return await redis.cli("EXISTS", "lb:rl:open\np5") === "1";
        },
        10_000,
        "the open route's probe",
      );
      assert.equal(await redis.cli("EXISTS", "lb:rl:closed\np4"), "1");
      await lb.proc.waitForLine(/rate-limit store .* answers again/);
      const text = await metrics(lb);
      const errors = (reason: string) =>
        metric(text, "lb_rate_limit_store_errors_total", { reason });
      assert.ok(errors("timeout") >= 2, text);
      assert.ok(errors("connection") >= 1, text);
      assert.ok(errors("circuit") >= 1, text);
      assert.ok(metric(text, "lb_policy_denied_total", { route: "closed" }) >= 1);
    });
  },
});
