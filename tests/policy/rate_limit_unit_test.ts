/**
 * The rate limit's pure parts on fake clocks: the bucket arithmetic, the
 * IETF field values, the LRU table, the circuit, keys from addresses,
 * fields and cookies, the RESP2 codec, the whole policy on a fake clock
 * (no sockets), and the config's errors.
 */

import assert from "node:assert/strict";
import { fakeExchange } from "./_exchange.ts";
import {
  type Bucket,
  limitField,
  policyField,
  sfString,
  take,
  type Verdict,
  waitSeconds,
} from "../../lib/policy/rate_bucket.ts";
import { BucketTable } from "../../lib/policy/rate_table.ts";
import { Circuit } from "../../lib/policy/rate_circuit.ts";
import {
  bounded,
  cookieValue,
  HASH_OVER,
  ipKey,
  keyReader,
  REPEATED,
  soleCookie,
  soleField,
} from "../../lib/policy/rate_key.ts";
import {
  command,
  RespError,
  RespProtocolError,
  RespReader,
  RespWriter,
} from "../../lib/policy/redis_resp.ts";
import { scriptCall, TOKEN_BUCKET_SHA, verdictOf } from "../../lib/policy/rate_script.ts";
import { createRateLimit } from "../../lib/policy/rate_limit.ts";
import { PolicyRuntime } from "../../lib/policy/runtime.ts";
import type { Policy, PolicyExchange } from "../../lib/policy/types.ts";
import type { ProxyReply } from "../../lib/core/message.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import type { RateLimitConfig } from "../../lib/config/policies/types.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { log } from "../../lib/core/logging.ts";
import { parseConfig } from "../../mod.ts";

const rule = { limit: 10, periodMs: 1000, burst: 10 };
const verdict = (): Verdict => ({ allowed: false, remaining: -1, waitMs: -1 });

Deno.test("take: a new bucket allows burst at once, then one per limit/period, and says when the next token comes", () => {
  const b: Bucket = { tokens: 10, at: 0 };
  for (let i = 9; i >= 0; i--) {
    const v = take(b, rule, 0, verdict());
    assert.deepEqual(v, { allowed: true, remaining: i, waitMs: 100 });
  }
  // Empty: the next token is 100 ms away (10 per second).
  assert.deepEqual(take(b, rule, 0, verdict()), { allowed: false, remaining: 0, waitMs: 100 });
  assert.deepEqual(take(b, rule, 40, verdict()), { allowed: false, remaining: 0, waitMs: 60 });
  assert.deepEqual(take(b, rule, 100, verdict()), { allowed: true, remaining: 0, waitMs: 100 });
  // Refill is continuous and capped at burst.
  assert.deepEqual(take(b, rule, 350, verdict()), { allowed: true, remaining: 1, waitMs: 50 });
  assert.deepEqual(take(b, rule, 1_000_000, verdict()), {
    allowed: true,
    remaining: 9,
    waitMs: 100,
  });
  // A clock that went backwards refills nothing and keeps the bucket's time.
  const back = take(b, rule, 999_000, verdict());
  assert.deepEqual(back, { allowed: true, remaining: 8, waitMs: 100 });
  assert.equal(b.at, 1_000_000);
});

Deno.test("take: burst above limit, and a slow rate's wait in seconds for Retry-After", () => {
  const burst = { limit: 2, periodMs: 60_000, burst: 5 };
  const b: Bucket = { tokens: 5, at: 0 };
  let allowed = 0;
  let last = verdict();
  for (let i = 0; i < 8; i++) {
    last = take(b, burst, 0, verdict());
    if (last.allowed) allowed++;
  }
  assert.equal(allowed, 5);
  assert.deepEqual(last, { allowed: false, remaining: 0, waitMs: 30_000 });
  assert.equal(waitSeconds(last.waitMs), 30);
  // Seconds round up and never reach 0 (RFC 9110 delay-seconds; "0" would invite a retry storm).
  assert.equal(waitSeconds(1), 1);
  assert.equal(waitSeconds(1000), 1);
  assert.equal(waitSeconds(1001), 2);
  // Float noise does not add a millisecond: 10/3 per second, after 300 ms.
  const odd = { limit: 10, periodMs: 3000, burst: 1 };
  const c: Bucket = { tokens: 0, at: 0 };
  assert.equal(take(c, odd, 0, verdict()).waitMs, 300);
  assert.equal(take(c, odd, 300, verdict()).allowed, true);
});

Deno.test("IETF fields: RateLimit-Policy and RateLimit as draft -11 writes them, names escaped", () => {
  assert.equal(
    policyField("api", { limit: 100, periodMs: 60_000, burst: 100 }),
    '"api";q=100;w=60',
  );
  assert.equal(
    policyField("api", { limit: 100, periodMs: 1000, burst: 250 }),
    '"api";q=100;w=1;lb-burst=250',
  );
  assert.equal(sfString('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(limitField('"api"', { allowed: true, remaining: 7, waitMs: 1200 }), '"api";r=7;t=2');
  assert.equal(limitField('"api"', { allowed: false, remaining: 0, waitMs: 10 }), '"api";r=0;t=1');
});

Deno.test("BucketTable: bounded, least recently used out first, gauge follows, resize trims", () => {
  const gauge = createLbMetrics().rateLimitKeys.labels("t");
  const table = new BucketTable(3, gauge);
  table.get("a", rule, 0);
  table.get("b", rule, 0);
  table.get("c", rule, 0);
  table.get("a", rule, 1); // a is now the most recent
  table.get("d", rule, 2); // evicts b
  assert.deepEqual(["a", "b", "c", "d"].map((k) => table.has(k)), [true, false, true, true]);
  assert.equal(table.size, 3);
  assert.equal(table.evicted, 1);
  // The bucket's state is kept across hits.
  const a = table.get("a", rule, 3);
  take(a, rule, 3, verdict());
  assert.equal(table.get("a", rule, 3).tokens, 9);
  // An evicted key comes back full: the cost of a bound, paid by the oldest key.
  assert.equal(table.get("b", rule, 4).tokens, 10);
  table.resize(1);
  assert.equal(table.size, 1);
  assert.ok(table.has("b"));
  const flood = new BucketTable(1000, gauge);
  for (let i = 0; i < 100_000; i++) flood.get(`k${i}`, rule, i);
  assert.equal(flood.size, 1000);
  assert.equal(flood.evicted, 99_000);
});

Deno.test("Circuit: opens after N failures in a row, one probe per cool-down, closes on success", () => {
  const c = new Circuit(3, 1000);
  assert.equal(c.allow(0), "yes");
  assert.equal(c.failure(0, false), false);
  c.success(); // the count is of failures in a row
  assert.equal(c.failure(1, false), false);
  assert.equal(c.failure(2, false), false);
  assert.equal(c.failure(3, false), true); // opened, said once
  assert.equal(c.isOpen, true);
  assert.equal(c.failure(4, false), false); // a late failure changes nothing
  assert.equal(c.allow(500), "no");
  assert.equal(c.retryInMs(500), 503);
  assert.equal(c.allow(1003), "probe");
  assert.equal(c.allow(1004), "no"); // one probe at a time
  assert.equal(c.failure(1010, true), false); // the probe failed: another cool-down
  assert.equal(c.allow(2000), "no");
  assert.equal(c.allow(2010), "probe");
  assert.equal(c.success(), true); // closed, said once
  assert.equal(c.isOpen, false);
  assert.equal(c.allow(2011), "yes");
  assert.equal(c.retryInMs(2011), 0);
});

const exchange = (clientIp: string, headers: HeaderPairs = []): PolicyExchange =>
  fakeExchange({ clientIp, headers, route: "api", pool: "default" });

Deno.test("keys: address, field, cookie, route and combinations; missing parts are empty; long keys hashed", () => {
  const x = exchange("192.0.2.1", [
    ["x-api-key", "k1"],
    ["cookie", "a=1; session=s2; b=3"],
    ["cookie", "c=4"],
  ]);
  assert.equal(keyReader([{ kind: "ip" }], "api")(x), "192.0.2.1");
  assert.equal(keyReader([{ kind: "header", name: "x-api-key" }], "api")(x), "k1");
  assert.equal(keyReader([{ kind: "cookie", name: "session" }], "api")(x), "s2");
  assert.equal(keyReader([{ kind: "route" }], "api")(x), "api");
  assert.equal(
    keyReader([{ kind: "ip" }, { kind: "header", name: "x-missing" }, { kind: "route" }], "r")(x),
    "192.0.2.1\n\nr",
  );
  const long = "x".repeat(HASH_OVER + 1);
  const hashed = keyReader([{ kind: "header", name: "x-api-key" }], "api")(
    exchange("192.0.2.1", [["x-api-key", long]]),
  );
  assert.match(hashed, /^#[A-Za-z0-9+/]{43}=$/);
  assert.equal(bounded("x".repeat(HASH_OVER)), "x".repeat(HASH_OVER));
  assert.notEqual(bounded(long), bounded(long + "y"));
});

Deno.test("cookieValue: RFC 6265 pairs, several fields, quotes, names that are prefixes of others", () => {
  const c = (v: string) => [["cookie", v]] as HeaderPairs;
  assert.equal(cookieValue(c("session=abc"), "session"), "abc");
  assert.equal(cookieValue(c("sessionid=x; session=y"), "session"), "y");
  assert.equal(cookieValue(c('a=1;session="q v"'), "session"), "q v");
  assert.equal(cookieValue(c("a=1; b=2"), "session"), undefined);
  assert.equal(cookieValue(c("session"), "session"), undefined);
  assert.equal(cookieValue(c("x=session=1"), "session"), undefined);
  assert.equal(cookieValue(c("session="), "session"), "");
  assert.equal(cookieValue([["x-cookie", "session=1"], ["cookie", "session=2"]], "session"), "2");
});

Deno.test("RESP2: commands encode as bulk arrays; replies decode across split reads and pipelined together", () => {
  const w = new RespWriter();
  w.write(command("SET", "k", "vé"));
  assert.equal(new TextDecoder().decode(w.take()), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n");
  assert.equal(w.length, 0);
  const r = new RespReader();
  const bytes = new TextEncoder().encode(
    "+OK\r\n:-12\r\n$5\r\nhello\r\n$-1\r\n*3\r\n:1\r\n:0\r\n:250\r\n*-1\r\n-NOSCRIPT No matching script\r\n*2\r\n*1\r\n+a\r\n$0\r\n\r\n",
  );
  const out: unknown[] = [];
  // One byte at a time: every split point is met.
  for (const b of bytes) {
    r.push(Uint8Array.of(b));
    for (let v = r.next(); v !== undefined; v = r.next()) out.push(v);
  }
  assert.deepEqual(out.slice(0, 7), ["OK", -12, "hello", null, [1, 0, 250], null, out[6]]);
  assert.ok(out[6] instanceof RespError);
  assert.equal((out[6] as RespError).code, "NOSCRIPT");
  assert.deepEqual(out[7], [["a"], ""]);
  assert.equal(r.next(), undefined);
  // A large reply grows the buffer.
  const big = "z".repeat(50_000);
  r.push(new TextEncoder().encode(`$${big.length}\r\n${big}\r\n`));
  assert.equal(r.next(), big);
  r.push(new TextEncoder().encode("?what\r\n"));
  assert.throws(() => r.next(), RespProtocolError);
});

Deno.test("script: the check's arguments and the reply as a verdict", () => {
  const call = scriptCall({ limit: 5, periodMs: 2000, burst: 7 });
  const text = new TextDecoder().decode(call.bySha);
  assert.equal(text, `*8\r\n$7\r\nEVALSHA\r\n$40\r\n${TOKEN_BUCKET_SHA}\r\n$1\r\n1\r\n`);
  // burst, limit, period, and an expiry once a bucket would have refilled (7 * 2000 / 5 + 1 s).
  assert.equal(
    new TextDecoder().decode(call.args),
    "$1\r\n7\r\n$1\r\n5\r\n$4\r\n2000\r\n$4\r\n3800\r\n",
  );
  assert.deepEqual(verdictOf([1, 4, 200]), { allowed: true, remaining: 4, waitMs: 200 });
  assert.equal(verdictOf([1, 4]), undefined);
  assert.equal(verdictOf(new RespError("ERR x")), undefined);
});

/** A rate-limit policy on a fake clock, with its own metrics. */
function policyOn(config: Partial<RateLimitConfig>, clock: { now: number }) {
  const metrics = createLbMetrics();
  const runtime = new PolicyRuntime({ metrics, log: log("test"), now: () => clock.now });
  const full: RateLimitConfig = {
    name: "api",
    key: [{ kind: "ip" }],
    limit: 3,
    periodMs: 1000,
    burst: 3,
    maxKeys: 100,
    headers: "always",
    ...config,
  };
  const policy = createRateLimit(full, runtime.deps, "api");
  return { policy, metrics, runtime };
}

function run(policy: Policy, x: PolicyExchange): ProxyReply {
  const early = policy.request!(x) as ProxyReply | undefined;
  const reply = early ?? { status: 200, headers: [["x-backend", "a"]], body: null };
  return policy.response ? policy.response(reply, x) : reply;
}

const field = (reply: ProxyReply, name: string) =>
  reply.headers.filter(([n]) => n === name).map(([, v]) => v);

Deno.test("policy: N+k requests at once get k 429s with Retry-After and RateLimit fields; refill lets one more", () => {
  const clock = { now: 0 };
  const { policy, metrics } = policyOn({}, clock);
  const replies = Array.from({ length: 5 }, () => run(policy, exchange("192.0.2.1")));
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 429, 429]);
  assert.deepEqual(replies.map((r) => field(r, "ratelimit")[0]), [
    '"api";r=2;t=1',
    '"api";r=1;t=1',
    '"api";r=0;t=1',
    '"api";r=0;t=1',
    '"api";r=0;t=1',
  ]);
  for (const r of replies) assert.deepEqual(field(r, "ratelimit-policy"), ['"api";q=3;w=1']);
  assert.deepEqual(field(replies[3], "retry-after"), ["1"]);
  assert.deepEqual(field(replies[0], "retry-after"), []);
  assert.deepEqual(field(replies[0], "x-backend"), ["a"]);
  // A different client has its own bucket.
  assert.equal(run(policy, exchange("192.0.2.2")).status, 200);
  clock.now = 334; // one token back (3 per second)
  assert.equal(run(policy, exchange("192.0.2.1")).status, 200);
  assert.equal(run(policy, exchange("192.0.2.1")).status, 429);
  assert.equal(metrics.policyDenied.labels("api", "rate-limit").value, 3);
  assert.equal(metrics.rateLimitKeys.labels("api").value, 2);
});

Deno.test("policy: headers 'denied' puts the fields on 429s only, 'never' on none; Retry-After always", () => {
  const clock = { now: 0 };
  const denied = policyOn({ headers: "denied", limit: 1, burst: 1 }, clock).policy;
  const ok = run(denied, exchange("192.0.2.1"));
  const no = run(denied, exchange("192.0.2.1"));
  assert.deepEqual(field(ok, "ratelimit"), []);
  assert.deepEqual(field(no, "ratelimit"), ['"api";r=0;t=1']);
  const never = policyOn({ headers: "never", limit: 1, burst: 1 }, clock).policy;
  assert.equal(never.response, undefined);
  run(never, exchange("192.0.2.1"));
  const refused = run(never, exchange("192.0.2.1"));
  assert.equal(refused.status, 429);
  assert.deepEqual(field(refused, "ratelimit"), []);
  assert.deepEqual(field(refused, "retry-after"), ["1"]);
});

Deno.test("policy: routes naming the same rate limit share its buckets, within a thread and across reloads", () => {
  const clock = { now: 0 };
  const metrics = createLbMetrics();
  const runtime = new PolicyRuntime({ metrics, log: log("test"), now: () => clock.now });
  const config: RateLimitConfig = {
    name: "site",
    key: [{ kind: "ip" }],
    limit: 2,
    periodMs: 60_000,
    burst: 2,
    maxKeys: 10,
    headers: "always",
  };
  const a = createRateLimit(config, runtime.deps, "a");
  const b = createRateLimit(config, runtime.deps, "b");
  assert.equal(run(a, exchange("192.0.2.1")).status, 200);
  assert.equal(run(b, exchange("192.0.2.1")).status, 200);
  // A reload builds the policy again: the bucket is the one already spent.
  const again = createRateLimit(config, runtime.deps, "a");
  assert.equal(run(again, exchange("192.0.2.1")).status, 429);
  // With the route in the key, each route has its own bucket under the shared name.
  const perRoute = { ...config, name: "site2", key: [{ kind: "ip" }, { kind: "route" }] as const };
  assert.equal(
    run(createRateLimit(perRoute, runtime.deps, "a"), exchange("192.0.2.1")).status,
    200,
  );
  assert.equal(
    run(createRateLimit(perRoute, runtime.deps, "b"), exchange("192.0.2.1")).status,
    200,
  );
});

Deno.test("config: defaults, key parts, store URL taken apart, /status without the password", async () => {
  const config = parseConfig({
    backends: ["http://127.0.0.1:1"],
    routes: [{ name: "api", match: {}, pool: "default" }],
    policies: {
      "rate-limit": {
        limit: 100,
        period: "1m",
        key: ["ip", "Header:X-Api-Key", "cookie:session", "route"].map((k) =>
          k.replace("Header", "header")
        ),
        store: { url: "redis://u:p%40ss@[::1]:6380/3", timeout: "20ms", "on-error": "closed" },
      },
    },
  });
  const rl = config.routes[0].policies!.rateLimit!;
  assert.equal(rl.name, "api");
  assert.equal(rl.periodMs, 60_000);
  assert.equal(rl.burst, 100);
  assert.equal(rl.maxKeys, 100_000);
  assert.equal(rl.headers, "always");
  assert.deepEqual(rl.key, [
    { kind: "ip" },
    { kind: "header", name: "x-api-key" },
    { kind: "cookie", name: "session" },
    { kind: "route" },
  ]);
  const s = rl.store!;
  assert.deepEqual(
    [
      s.host,
      s.port,
      s.db,
      s.username,
      s.password,
      s.timeoutMs,
      s.onError,
      s.failures,
      s.coolDownMs,
    ],
    ["::1", 6380, 3, "u", "p@ss", 20, "closed", 3, 5000],
  );
  const { rateLimitPolicy } = await import("../../lib/config/policies/rate_limit.ts");
  const shown = JSON.stringify(rateLimitPolicy.describe(rl));
  assert.ok(!shown.includes("p%40ss") && shown.includes("u:***@"), shown);
});

Deno.test("config: bad rate-limit values are errors naming the key", () => {
  const problems = (rateLimit: unknown) => {
    try {
      parseConfig({
        backends: ["http://127.0.0.1:1"],
        routes: [{
          name: "api",
          match: {},
          pool: "default",
          policies: { "rate-limit": rateLimit },
        }],
      });
      return "";
    } catch (err) {
      return (err as Error).message;
    }
  };
  const base = { limit: 10, period: "1s" };
  assert.equal(problems(base), "");
  assert.match(
    problems({ ...base, period: "500ms" }),
    /routes\[0\]\.policies\.rate-limit\.period: "500ms" is not a period in whole seconds/,
  );
  assert.match(problems({ ...base, period: "1.5s" }), /rate-limit\.period: .*whole seconds/);
  assert.match(problems({ ...base, period: "soon" }), /rate-limit\.period/);
  assert.match(
    problems({ ...base, key: ["ip", "query:x"] }),
    /rate-limit\.key: "query:x" is not a key part \(expected ip, route, header:<field name>, cookie:<cookie name>\)/,
  );
  assert.match(problems({ ...base, key: ["ip", "ip"] }), /rate-limit\.key: "ip" is given twice/);
  assert.match(problems({ ...base, key: ["header:bad name"] }), /is not a key part/);
  assert.match(problems({ ...base, key: [] }), /rate-limit/);
  assert.match(problems({ ...base, limit: 0 }), /rate-limit/);
  assert.match(problems({ ...base, headers: "sometimes" }), /rate-limit/);
  assert.match(
    problems({ ...base, name: "bad\u00e9" }),
    /rate-limit\.name: .*can't name a rate limit/,
  );
  const store = (s: unknown) => problems({ ...base, store: s });
  assert.match(
    store({ url: "http://x:1" }),
    /rate-limit\.store\.url: "http:\/\/x:1" is not redis:\/\//,
  );
  assert.match(store({ url: "rediss://x:1" }), /uses TLS/);
  assert.match(store({ url: "redis://x:1/abc" }), /store\.url: .*not a database number/);
  assert.match(
    store({ url: "redis://:secret@x:1?db=1" }),
    /"redis:\/\/:\*\*\*@x:1\?db=1" has a query/,
  );
  assert.match(store({ url: "not a url" }), /store\.url: "not a url" is not a URL/);
  assert.match(
    store({ url: "redis://x", timeout: "0" }),
    /store\.timeout: "0" is not a duration above 0/,
  );
  assert.match(store({ url: "redis://x", "cool-down": "x" }), /store\.cool-down/);
  assert.match(store({ url: "redis://x", "on-error": "maybe" }), /rate-limit/);
  assert.match(store({ url: "redis://x", failures: 0 }), /rate-limit/);
  assert.match(store({}), /rate-limit/);
});

Deno.test("rate keys: IPv6 clients by /64, IPv4-mapped as IPv4; a repeated keyed field or cookie shares one bucket", () => {
  assert.equal(ipKey("192.0.2.7"), "192.0.2.7");
  assert.equal(ipKey("2001:db8:1:2:aaaa::1"), "20010db800010002::/64");
  assert.equal(ipKey("2001:db8:1:2:ffff:ffff:ffff:ffff"), "20010db800010002::/64");
  assert.notEqual(ipKey("2001:db8:1:3::1"), ipKey("2001:db8:1:2::1"));
  assert.equal(ipKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(ipKey("::ffff:c000:207"), "192.0.2.7");
  assert.equal(soleField([["x-api-key", "k1"]], "x-api-key"), "k1");
  assert.equal(soleField([], "x-api-key"), "");
  assert.equal(soleField([["x-api-key", "decoy"], ["x-api-key", "k1"]], "x-api-key"), REPEATED);
  assert.equal(soleCookie([["cookie", "a=1; s=abc"]], "s"), "abc");
  assert.equal(soleCookie([["cookie", "s=decoy; s=abc"]], "s"), REPEATED);
  assert.equal(soleCookie([["cookie", "s=decoy"], ["cookie", "s=abc"]], "s"), REPEATED);
  assert.equal(soleCookie([["cookie", "as=1"]], "s"), "");
});
