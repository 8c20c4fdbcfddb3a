/**
 * The Redis client and the rate-limit store against a real `redis-server`
 * on loopback: pipelining in order, the script's bucket on Redis's clock,
 * the NOSCRIPT fallback after a restart, reconnecting by itself, deadlines
 * against a server that stopped answering, AUTH and SELECT, and the
 * circuit opening and closing.
 */

import assert from "node:assert/strict";
import { HAVE_REDIS, type RedisServer, startRedis } from "../_redis.ts";
import { RedisClient } from "../../lib/policy/redis_client.ts";
import { StoreFailure } from "../../lib/policy/redis_pending.ts";
import { command, RespError } from "../../lib/policy/redis_resp.ts";
import { scriptCall } from "../../lib/policy/rate_script.ts";
import { RateStore } from "../../lib/policy/rate_store.ts";
import { PolicyRuntime } from "../../lib/policy/runtime.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { log } from "../../lib/core/logging.ts";
import type { RateStoreConfig } from "../../lib/config/policies/types.ts";

const ignore = !HAVE_REDIS;
const target = (server: RedisServer, more: Partial<RateStoreConfig> = {}) => ({
  host: "127.0.0.1",
  port: server.port,
  db: 0,
  ...more,
});

/** Rejects with the failure's reason, or resolves "ok". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof StoreFailure ? err.reason : `other: ${err}`;
  }
}

Deno.test({
  name:
    "redis client: a thousand concurrent commands share one connection and get their own replies, in order",
  ignore,
  async fn() {
    await using server = await startRedis();
    const client = new RedisClient(target(server));
    try {
      const replies = await Promise.all(
        Array.from({ length: 1000 }, () => client.call(command("INCR", "n"), 2000)),
      );
      assert.deepEqual(replies, Array.from({ length: 1000 }, (_, i) => i + 1));
      // One connection: Redis counts its clients (redis-cli is the other one).
      assert.equal((await server.cli("CLIENT", "LIST")).split("\n").length, 2);
      assert.ok(
        (await client.call(command("NOSUCHCOMMAND"), 1000)) instanceof RespError,
        "an error reply is a value",
      );
    } finally {
      await client.close();
    }
  },
});

Deno.test({
  name:
    "redis script: one bucket across connections, timed by Redis; NOSCRIPT after a restart falls back to EVAL",
  ignore,
  async fn() {
    await using server = await startRedis();
    const a = new RedisClient(target(server));
    const b = new RedisClient(target(server));
    const metrics = createLbMetrics();
    const runtime = new PolicyRuntime({ metrics, log: log("test") });
    const config: RateStoreConfig = {
      url: server.url,
      ...target(server),
      prefix: "t:",
      timeoutMs: 1000,
      onError: "open",
      failures: 3,
      coolDownMs: 1000,
    };
    const storeA = new RateStore(a, config, runtime.deps);
    const storeB = new RateStore(b, config, runtime.deps);
    try {
      const call = scriptCall({ limit: 5, periodMs: 3_600_000, burst: 5 });
      const checks = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? storeA : storeB).check(call, "t:k")!),
      );
      const allowed = checks.filter((v) => !(v instanceof StoreFailure) && v.allowed).length;
      assert.equal(allowed, 5, JSON.stringify(checks));
      // The key expires once the bucket would be full again (5 per hour: an hour, plus a second).
      const pttl = Number(await server.cli("PTTL", "t:k"));
      assert.ok(pttl > 3_590_000 && pttl <= 3_601_000, String(pttl));
      // A restarted Redis has neither the bucket nor the script.
      await server.kill();
      assert.equal(await outcome(a.call(command("PING"), 500)), "connection");
      await server.restart();
      const fresh = await storeA.check(call, "t:k")!;
      assert.deepEqual(fresh, { allowed: true, remaining: 4, waitMs: 720_000 });
      assert.equal(metrics.rateLimitStoreErrors.labels("connection").value, 0);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "redis client: killed mid-flight fails what waits at once, fails fast while down, reconnects by itself",
  ignore,
  async fn() {
    await using server = await startRedis();
    const client = new RedisClient(target(server));
    try {
      assert.equal(await client.call(command("PING"), 1000), "PONG");
      // BLPOP on an empty list holds the connection, so the next command is in flight when the server dies.
      const slow = outcome(client.call(command("BLPOP", "empty", "5"), 10_000));
      const behind = outcome(client.call(command("PING"), 10_000));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await server.kill();
      assert.deepEqual(await Promise.all([slow, behind]), ["connection", "connection"]);
      assert.ok(performance.now() - t0 < 2000);
      assert.equal(client.connected, false);
      const t1 = performance.now();
      assert.equal(await outcome(client.call(command("PING"), 1000)), "connection");
      assert.ok(performance.now() - t1 < 200, "a refused connection fails at once");
      await server.restart();
      assert.equal(await client.call(command("PING"), 1000), "PONG");
      assert.equal(client.connected, true);
    } finally {
      await client.close();
    }
  },
});

Deno.test({
  name:
    "redis client: a server that stops answering times commands out on their deadline, and the connection is replaced",
  ignore,
  async fn() {
    await using server = await startRedis();
    const client = new RedisClient(target(server), { stuckMs: 400 });
    try {
      assert.equal(await client.call(command("PING"), 1000), "PONG");
      server.pause();
      const t0 = performance.now();
      const results = await Promise.all([
        outcome(client.call(command("PING"), 50)),
        outcome(client.call(command("PING"), 150)),
      ]);
      const took = performance.now() - t0;
      assert.deepEqual(results, ["timeout", "timeout"]);
      assert.ok(took >= 145 && took < 1000, `took ${took} ms`);
      // Past stuckMs with no reply, the connection is given up.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(client.connected, false);
      server.resume();
      assert.equal(await client.call(command("PING"), 2000), "PONG");
    } finally {
      server.resume();
      await client.close();
    }
  },
});

Deno.test({
  name: "redis client: AUTH and SELECT on connect; a wrong password is a reply failure",
  ignore,
  async fn() {
    await using server = await startRedis(["--requirepass", "s3cret"]);
    const good = new RedisClient(target(server, { password: "s3cret", db: 2 }));
    const user = new RedisClient(target(server, { username: "default", password: "s3cret" }));
    const bad = new RedisClient(target(server, { password: "nope" }));
    const none = new RedisClient(target(server));
    try {
      assert.equal(await good.call(command("SET", "k", "v2"), 1000), "OK");
      assert.equal(await server.cli("-n", "2", "GET", "k"), "v2");
      assert.equal(await server.cli("-n", "0", "EXISTS", "k"), "0");
      assert.equal(await user.call(command("PING"), 1000), "PONG");
      assert.equal(await outcome(bad.call(command("PING"), 1000)), "reply");
      const refused = await none.call(command("PING"), 1000);
      assert.ok(refused instanceof RespError && refused.code === "NOAUTH");
    } finally {
      await Promise.all([good.close(), user.close(), bad.close(), none.close()]);
    }
  },
});

Deno.test({
  name:
    "rate store: a stopped Redis opens the circuit after N timeouts, checks then fall back at once, a probe closes it",
  ignore,
  async fn() {
    await using server = await startRedis();
    const client = new RedisClient(target(server), { stuckMs: 5000 });
    const metrics = createLbMetrics();
    const runtime = new PolicyRuntime({ metrics, log: log("test") });
    const store = new RateStore(client, {
      url: server.url,
      ...target(server),
      prefix: "t:",
      timeoutMs: 60,
      onError: "open",
      failures: 3,
      coolDownMs: 300,
    }, runtime.deps);
    const call = scriptCall({ limit: 100, periodMs: 1000, burst: 100 });
    try {
      assert.equal((await store.check(call, "t:a")! as { allowed: boolean }).allowed, true);
      server.pause();
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const answer = await store.check(call, "t:a");
        assert.ok(answer instanceof StoreFailure && answer.reason === "timeout");
        assert.ok(performance.now() - t0 < 1000);
      }
      assert.equal(store.circuit.isOpen, true);
      // Open: no check is sent, the answer is at once.
      assert.equal(store.check(call, "t:a"), undefined);
      assert.ok(store.retryInMs() > 0 && store.retryInMs() <= 300);
      server.resume();
      await new Promise((r) => setTimeout(r, 350));
      const probe = await store.check(call, "t:a");
      assert.ok(probe && !(probe instanceof StoreFailure) && probe.allowed, String(probe));
      assert.equal(store.circuit.isOpen, false);
      assert.equal(metrics.rateLimitStoreErrors.labels("timeout").value, 3);
      assert.equal(metrics.rateLimitStoreErrors.labels("circuit").value, 1);
    } finally {
      server.resume();
      await client.close();
    }
  },
});
