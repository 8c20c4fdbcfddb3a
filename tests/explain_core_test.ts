/**
 * `X-LB-Explain` through the whole lb: in-process (`lb.handle`) for policy
 * refusals, compression, a split and a refused connection retried; then the
 * real program on the `deno-serve` front and with `--workers 2`, where each
 * worker must have the token too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startLb } from "./_lb.ts";
import { backend, deadOrigin, inProcess } from "./routes/_routes.ts";
import { startWorkersLb } from "./workers/_workers.ts";

const TOKEN = "explain-core-token-0123456789";
const ASK = { "x-lb-explain": TOKEN };

/** The parsed field of an answer; fails when there is none. */
function explanation(headers: Headers): Record<string, unknown> {
  const field = headers.get("x-lb-explain");
  assert.ok(field !== null, "no X-LB-Explain field");
  return JSON.parse(field);
}

Deno.test("in-process: refusals name their policy; compression, a split and a refused connection's retry are explained", async () => {
  await using a = backend("a");
  await using b = backend("b");
  const dead = deadOrigin();
  await using lb = inProcess({
    "admin-token": TOKEN,
    "health-interval": "60s",
    "trust-proxy": "127.0.0.0/8",
    pools: {
      a: { backends: [a.origin] },
      b: { backends: [b.origin] },
      retry: { backends: [dead, a.origin], strategy: "round-robin", retries: 1 },
      down: { backends: [dead], retries: 1 },
    },
    routes: [
      {
        name: "deny",
        match: { "path-prefix": "/deny" },
        pool: "a",
        policies: { ip: { deny: ["203.0.113.0/24"] } },
      },
      {
        name: "limited",
        match: { "path-prefix": "/limited" },
        pool: "a",
        policies: { "rate-limit": { limit: 1, period: "1m", burst: 1 } },
      },
      {
        name: "zip",
        match: { "path-prefix": "/zip" },
        pool: "a",
        policies: {
          compression: { encodings: ["gzip"], "min-size": 1, types: ["application/json"] },
        },
      },
      { name: "retry", match: { "path-prefix": "/retry" }, pool: "retry" },
      { name: "down", match: { "path-prefix": "/down" }, pool: "down" },
      { name: "split", match: {}, split: { a: 1, b: 1 } },
    ],
  });

  const denied = await lb.send("http://site.test/deny", {
    headers: { ...ASK, "x-forwarded-for": "203.0.113.5" },
  });
  assert.equal(denied.status, 403);
  const d = explanation(denied.headers);
  assert.deepEqual(d.refusedBy, { policy: "ip", status: 403 });
  assert.deepEqual(d.policies, ["ip: denied 203.0.113.5 (deny 203.0.113.0/24)"]);
  assert.equal(d.attempts, undefined, "a refused request reaches no backend");

  assert.equal((await lb.send("http://site.test/limited", { headers: ASK })).status, 200);
  const limited = await lb.send("http://site.test/limited", { headers: ASK });
  assert.equal(limited.status, 429);
  const l = explanation(limited.headers);
  assert.deepEqual(l.refusedBy, { policy: "rate-limit", status: 429 });
  assert.match((l.policies as string[])[0], /^rate-limit: limited: limited, retry in \d+s$/);

  const zipped = await lb.send("http://site.test/zip", {
    headers: { ...ASK, "accept-encoding": "gzip" },
  });
  assert.equal(zipped.headers.get("content-encoding"), "gzip");
  assert.deepEqual(explanation(zipped.headers).policies, ["compression: gzip"]);

  const retried = await lb.send("http://site.test/retry", { headers: ASK });
  assert.equal(retried.status, 200);
  const r = explanation(retried.headers);
  assert.equal(r.strategy, "round-robin");
  assert.deepEqual(r.attempts, [
    { backend: dead, outcome: "connect_refused", retry: "connect_refused" },
    { backend: a.origin, outcome: 200 },
  ]);

  // The core's own 502 is explained: the refusal, and why nothing followed.
  const failed = await lb.send("http://site.test/down", { headers: ASK });
  assert.equal(failed.status, 502);
  const f = explanation(failed.headers);
  assert.equal(f.status, 502);
  assert.deepEqual(f.attempts, [
    { backend: dead, outcome: "connect_refused", retry: "connect_refused" },
  ]);
  assert.deepEqual((f.picks as { chose: string }[]).map((p) => p.chose), [dead, "none"]);

  const pools = [];
  for (let i = 0; i < 2; i++) {
    const res = await lb.send("http://site.test/any", { headers: ASK });
    const s = explanation(res.headers);
    assert.deepEqual(s.split, { a: 1, b: 1 });
    assert.deepEqual((s.route as { why: string[] }).why, ["matches every request"]);
    pools.push(s.pool);
  }
  assert.deepEqual(pools.sort(), ["a", "b"]);

  // Without the token: nothing explained, and the access record has no `explain`.
  const plain = await lb.send("http://site.test/any");
  assert.equal(plain.headers.get("x-lb-explain"), null);
  assert.equal(lb.records.at(-1)!.explain, undefined);
  assert.ok(lb.records.some((rec) => rec.explain !== undefined));
  for (const seen of [...a.seen, ...b.seen]) assert.equal(seen.path.includes("explain"), false);
});

Deno.test("deno-serve front and --workers 2: the field is there, and never without the token", async () => {
  await using a = backend("a");
  for (
    const start of [
      () => startLb([a.origin], ["--front", "deno-serve", "--admin-token", TOKEN]),
      () => startWorkersLb([a.origin], { extra: ["--admin-token", TOKEN] }),
    ]
  ) {
    await using lb = await start();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${lb.url}/x`, { headers: ASK });
      await res.body?.cancel();
      const e = explanation(res.headers);
      assert.equal(e.pool, "default");
      assert.deepEqual(e.attempts, [{ backend: a.origin, outcome: 200 }]);
    }
    const plain = await fetch(`${lb.url}/x`, { headers: { "x-lb-explain": "nope" } });
    await plain.body?.cancel();
    assert.equal(plain.headers.get("x-lb-explain"), null);
  }
});

/** Sends a WebSocket handshake through `port` and returns the answer's head. */
async function handshake(port: number, token: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [
    "GET /ws HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    `X-LB-Explain: ${token}`,
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  const buf = new Uint8Array(8192);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text.slice(0, text.indexOf("\r\n\r\n"));
}

Deno.test("WebSocket: the 101 carries the explanation on both fronts; the backend never sees the field", async () => {
  const seen: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (req.headers.get("upgrade") !== "websocket") return new Response("ok");
    seen.push(req.headers.get("x-lb-explain"));
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onerror = () => {};
    return response;
  });
  try {
    for (const front of ["h1", "deno-serve"]) {
      await using lb = await startLb([`http://127.0.0.1:${server.addr.port}`], [
        "--front",
        front,
        "--admin-token",
        TOKEN,
      ]);
      const head = await handshake(lb.port, TOKEN);
      assert.match(head, /^HTTP\/1\.1 101/, front);
      const field = /\r\nx-lb-explain: (.*)/i.exec(head)?.[1];
      assert.ok(field, `${front}: ${head}`);
      const e = JSON.parse(field);
      assert.equal(e.status, 101);
      assert.equal(e.attempts.length, 1);
      const wrong = await handshake(lb.port, "wrong");
      assert.match(wrong, /^HTTP\/1\.1 101/);
      assert.doesNotMatch(wrong, /x-lb-explain/i);
    }
    assert.ok(seen.length >= 4 && seen.every((v) => v === null), JSON.stringify(seen));
  } finally {
    await server.shutdown();
  }
});

Deno.test("in-process: a response timeout that spent the deadline says so, not that the request was unsafe to resend", async () => {
  await using slow = backend("slow", { delayMs: 2_000 });
  await using lb = inProcess({
    "admin-token": TOKEN,
    "health-interval": "60s",
    pools: { slow: { backends: [slow.origin], retries: 1, "response-timeout": "100ms" } },
  });
  const res = await lb.send("http://site.test/", { headers: ASK });
  assert.equal(res.status, 504);
  const e = explanation(res.headers);
  // A GET may be sent again; it was the whole deadline that was gone.
  assert.deepEqual(e.attempts, [
    { backend: slow.origin, outcome: "response_timeout", noRetry: "response deadline spent" },
  ]);
});

Deno.test("in-process: a pick passed over for a full backend is its own pick, marked full", async () => {
  await using slow = backend("slow", { delayMs: 400 });
  await using fast = backend("fast");
  await using lb = inProcess({
    "admin-token": TOKEN,
    "health-interval": "60s",
    pools: {
      two: {
        backends: [slow.origin, fast.origin],
        strategy: "round-robin",
        "max-connections-per-backend": 1,
      },
    },
  });
  const held = lb.send("http://site.test/"); // slow's one slot, for 400 ms
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await lb.send("http://site.test/")).status, 200); // fast's turn
  const res = await lb.send("http://site.test/", { headers: ASK }); // slow's turn, but full
  assert.equal(res.status, 200);
  const picks = explanation(res.headers).picks as Record<string, unknown>[];
  assert.deepEqual(picks.map((p) => [p.pick, p.chose, p.full]), [
    [0, slow.origin, true],
    [1, fast.origin, undefined],
  ]);
  assert.equal((await held).status, 200);
});
