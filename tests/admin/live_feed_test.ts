/**
 * The dashboard's SSE feed and files on a real admin listener (loopback
 * port 0): a new client gets `retry:` and a snapshot at once, then updates
 * that follow changes made through the API; a client that goes away is
 * removed at once and the ticker stops with the last one; the cap gives
 * 503; the page and its files carry the CSP and name no external URL; and
 * the pool listeners record maintenance and weight changes in the event log.
 */

import assert from "node:assert/strict";
import { EventLog } from "../../lib/admin/event_log.ts";
import { type AdminHandler, createAdminHandler } from "../../lib/admin/handler.ts";
import { LiveFeed } from "../../lib/admin/live.ts";
import type { DashboardMessage } from "../../lib/admin/dashboard_state.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { applyReport } from "../../lib/pool/replica.ts";
import { PoolEventRecorder } from "../../lib/server/pool_events.ts";
import { singleThreadReport } from "../../lib/server/thread_stats.ts";
import { A, adminPool, B, C, enc, TOKEN } from "./_admin.ts";

interface Feed extends AsyncDisposable {
  readonly url: string;
  readonly handler: AdminHandler;
  readonly events: EventLog;
  readonly pools: ReturnType<typeof adminPool>[];
}

/** Two pools behind an admin handler served on loopback, with a fast ticker. */
function serveFeed(options: { tickMs?: number; max?: number } = {}): Feed {
  const pools = [adminPool("api", `${A},${B}`), adminPool("web", C)];
  const events = new EventLog();
  const recorder = new PoolEventRecorder(events);
  recorder.sync(pools.map((p) => p.pool));
  const handler = createAdminHandler({
    pools: () => pools,
    routes: () => [],
    report: () =>
      Promise.resolve(singleThreadReport(pools.map((p) => p.pool), createLbMetrics(), Date.now())),
    shuttingDown: () => false,
    startedAt: Date.now(),
    version: "test",
    token: TOKEN,
    events,
    tickMs: options.tickMs ?? 100,
    maxDashboardStreams: options.max,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    handler,
    events,
    pools,
    [Symbol.asyncDispose]: async () => {
      handler.close();
      recorder.stop();
      await server.shutdown();
      pools.forEach((p) => p.pool.close());
    },
  };
}

/** One SSE field block: its event name, data, and any `retry:` or comment lines. */
interface SseBlock {
  readonly event?: string;
  readonly data?: string;
  readonly retry?: string;
  readonly comment?: string;
}

/** Reads an SSE body block by block. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<SseBlock> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const out: Record<string, string> = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) out.comment = line.slice(1).trim();
          else {
            const i = line.indexOf(":");
            out[line.slice(0, i)] = line.slice(i + 1).trimStart();
          }
        }
        return out;
      }
      const r = await this.#reader.read();
      if (r.done) throw new Error("stream ended");
      this.#buffer += r.value;
    }
  }
  /** The next `event:` block named `name`, parsed. */
  async message(name: string): Promise<DashboardMessage> {
    for (;;) {
      const b = await this.next();
      if (b.event === name) return JSON.parse(b.data!);
    }
  }
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("dashboard feed: retry and a snapshot at once, then updates that follow an API change", async () => {
  await using feed = serveFeed();
  const res = await fetch(`${feed.url}/dashboard/events`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const sse = new SseReader(res.body!);
  try {
    assert.deepEqual(await sse.next(), { retry: "2000" });
    const first = await sse.next();
    assert.equal(first.event, "snapshot");
    const snapshot: DashboardMessage = JSON.parse(first.data!);
    assert.deepEqual(snapshot.state.pools.map((p) => [p.name, p.backends.map((b) => b.url)]), [
      ["api", [A, B]],
      ["web", [C]],
    ]);
    assert.equal(snapshot.state.actions, true);
    assert.ok(snapshot.history.length >= 1);
    assert.equal(feed.handler.live.subscribers, 1);
    assert.ok(feed.handler.live.ticking);

    const updates: DashboardMessage[] = [await sse.message("update"), await sse.message("update")];
    assert.ok(updates[1].state.at > updates[0].state.at, "each update is a new sample");

    const put = await fetch(`${feed.url}/api/pools/api/backends/${enc(B)}/maintenance`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    let seen: DashboardMessage | undefined;
    for (let i = 0; i < 5 && !seen; i++) {
      const u = await sse.message("update");
      if (u.state.pools[0].backends[1].state === "maintenance") seen = u;
    }
    assert.ok(seen, "an update shows B in maintenance");
    assert.equal(seen.state.pools[0].backends[1].reason, "maintenance (admin)");
    assert.ok(
      seen.events.some((e) => e.kind === "maintenance-on" && e.backend === B && e.pool === "api"),
      "the update carries the new event",
    );
  } finally {
    await sse.cancel();
  }
});

Deno.test("dashboard feed: a client that goes away is removed at once and the ticker stops", async () => {
  await using feed = serveFeed();
  const { live } = feed.handler;
  assert.equal(live.subscribers, 0);
  assert.equal(live.ticking, false, "nothing runs before anyone watches");

  const abort = new AbortController();
  const res = await fetch(`${feed.url}/dashboard/events`, { signal: abort.signal });
  const sse = new SseReader(res.body!);
  await sse.message("snapshot");
  await sse.message("update");
  assert.equal(live.subscribers, 1);
  abort.abort();
  await sse.cancel().catch(() => {});
  await waitFor(() => live.subscribers === 0, "the subscriber to be removed");
  assert.equal(live.ticking, false, "the last one leaving stops the ticker");
  const samples = live.samples;
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(live.samples, samples, "nothing is sampled for nobody");

  // A second client is served as the first was.
  const again = await fetch(`${feed.url}/dashboard/events`);
  const sse2 = new SseReader(again.body!);
  await sse2.message("snapshot");
  assert.equal(live.subscribers, 1);
  assert.ok(live.ticking);
  await sse2.cancel();
  await waitFor(() => live.subscribers === 0 && !live.ticking, "the second to be removed");
});

Deno.test("dashboard feed: past the cap a client gets 503; closing the feed ends the streams", async () => {
  await using feed = serveFeed({ max: 2 });
  const open = await Promise.all([1, 2].map(() => fetch(`${feed.url}/dashboard/events`)));
  const readers = open.map((r) => new SseReader(r.body!));
  await Promise.all(readers.map((r) => r.message("snapshot")));
  const refused = await fetch(`${feed.url}/dashboard/events`);
  assert.equal(refused.status, 503);
  assert.match(await refused.text(), /too many dashboard streams \(2\)/);
  assert.equal(feed.handler.live.subscribers, 2);
  feed.handler.close();
  for (const r of readers) {
    await assert.rejects(async () => {
      for (;;) await r.next();
    }, /stream ended/);
  }
  assert.equal(feed.handler.live.subscribers, 0);
  assert.equal(feed.handler.live.ticking, false);
  const after = await fetch(`${feed.url}/dashboard/events`);
  assert.equal(after.status, 503);
  await after.body?.cancel();
});

Deno.test("dashboard feed: a HEAD gets the headers without joining", async () => {
  await using feed = serveFeed();
  const res = await fetch(`${feed.url}/dashboard/events`, { method: "HEAD" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(feed.handler.live.subscribers, 0);
});

const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
  "script-src 'self'";

Deno.test("dashboard files: / and /dashboard are the page, with the CSP; no file names an external URL", async () => {
  await using feed = serveFeed();
  const bodies: string[] = [];
  for (
    const [path, type] of [
      ["/", "text/html"],
      ["/dashboard", "text/html"],
      ["/dashboard.js", "text/javascript"],
      ["/dashboard.css", "text/css"],
    ]
  ) {
    const res = await fetch(`${feed.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), `${type}; charset=utf-8`, path);
    assert.ok(res.headers.get("content-security-policy")!.startsWith(CSP), path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("cache-control"), "no-store", path);
    const body = await res.text();
    assert.doesNotMatch(body, /https?:\/\//i, `${path} names no external URL`);
    assert.doesNotMatch(
      body,
      /\/\/[a-z0-9.-]+\.[a-z]{2,}\//i,
      `${path} has no protocol-relative URL`,
    );
    bodies.push(body);
  }
  const [html, , js] = bodies;
  assert.match(html, /<script src="\/dashboard\.js" defer><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/dashboard\.css">/);
  assert.doesNotMatch(html, /<script>|<style|style="/, "nothing inline that the CSP would block");
  assert.doesNotMatch(js, /innerHTML|localStorage|sessionStorage|document\.cookie/);
  const notFound = await fetch(`${feed.url}/nope`);
  assert.match(await notFound.text(), /try \/ or \/dashboard for the dashboard/);
});

Deno.test("pool events: maintenance and weight changes through the API are recorded once each", async () => {
  await using feed = serveFeed();
  const auth = { authorization: `Bearer ${TOKEN}` };
  const base = `${feed.url}/api/pools/api/backends/${enc(A)}`;
  for (
    const [method, path, body] of [
      ["POST", "/maintenance", undefined],
      ["POST", "/maintenance", undefined],
      ["DELETE", "/maintenance", undefined],
      ["PUT", "/weight", { weight: 4 }],
      ["PUT", "/weight", { weight: 4 }],
    ] as const
  ) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body ? { ...auth, "content-type": "application/json" } : auth,
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.equal(res.status, 200, `${method} ${path}`);
    await res.body?.cancel();
  }
  const drained = await fetch(`${feed.url}/api/pools/web/backends/${enc(C)}`, {
    method: "DELETE",
    headers: auth,
  });
  assert.equal(drained.status, 202);
  await drained.body?.cancel();
  await waitFor(() => feed.events.since().some((e) => e.kind === "removed"), "C to leave");
  assert.deepEqual(feed.events.since().map((e) => [e.kind, e.pool, e.backend, e.detail]), [
    ["maintenance-on", "api", A, "maintenance (admin)"],
    ["maintenance-off", "api", A, "back from maintenance (admin)"],
    ["weight", "api", A, "weight 1 → 4"],
    ["draining", "web", C, "draining: removed (admin)"],
    ["removed", "web", C, "left the pool"],
  ]);
});

Deno.test("pool events: health flips and ejections, and a pool no longer synced records nothing", () => {
  const events = new EventLog({ now: () => 42 });
  const api = adminPool("api", `${A},${B}`);
  const web = adminPool("web", C);
  const recorder = new PoolEventRecorder(events);
  try {
    recorder.sync([api.pool, web.pool]);
    const a = api.pool.find(A)!;
    api.pool.markDown(a, "connection refused", 1);
    api.pool.setHealth(a, true, "probe passed", 2);
    api.pool.eject(api.pool.find(B)!, Date.now() + 60_000, "5 consecutive errors");
    recorder.sync([api.pool]);
    web.pool.markDown(web.pool.find(C)!, "timeout", 3);
    assert.deepEqual(events.since().map((e) => [e.kind, e.backend, e.detail, e.at]), [
      ["down", A, "connection refused", 42],
      ["up", A, "probe passed", 42],
      ["ejected", B, "5 consecutive errors", 42],
    ]);
  } finally {
    recorder.stop();
    api.pool.close();
    web.pool.close();
  }
});

Deno.test("pool events: an ejection or connect failure a worker reports is recorded on the main thread", () => {
  const events = new EventLog({ now: () => 7 });
  const api = adminPool("api", `${A},${B}`);
  const recorder = new PoolEventRecorder(events);
  try {
    recorder.sync([api.pool]);
    // What workers.ts does with a worker's report: apply it to the main thread's pool.
    const until = Date.now() + 60_000;
    const eject = { kind: "eject", origin: B, until, ejections: 1, reason: "5xx streak" } as const;
    applyReport(api.pool, eject, Date.now());
    applyReport(api.pool, eject, Date.now());
    applyReport(api.pool, { kind: "down", origin: A, reason: "connection refused" }, Date.now());
    assert.deepEqual(events.since().map((e) => [e.kind, e.backend, e.detail]), [
      ["ejected", B, "5xx streak"],
      ["down", A, "connection refused"],
    ], "a second worker reporting the same ejection adds nothing");
  } finally {
    recorder.stop();
    api.pool.close();
  }
});

Deno.test("dashboard feed: while samples fail a heartbeat keeps the stream open; the first good one sends the snapshot", async () => {
  const pools = [adminPool("api", A)];
  let failing = true;
  const feed = new LiveFeed({
    source: {
      pools: () => pools,
      routes: () => [],
      shuttingDown: () => false,
      startedAt: 0,
      version: "test",
    },
    report: () =>
      failing
        ? Promise.reject(new Error("a worker did not answer"))
        : Promise.resolve(singleThreadReport(pools.map((p) => p.pool), createLbMetrics(), 0)),
    actions: false,
    tickMs: 20,
    heartbeatMs: 60,
  });
  const sse = new SseReader(feed.connect().body!);
  try {
    assert.deepEqual(await sse.next(), { retry: "2000" });
    assert.deepEqual(await sse.next(), { comment: "keep-alive" });
    failing = false;
    const b = await sse.next();
    assert.equal(
      b.event,
      "snapshot",
      "a client whose first sample failed gets a snapshot, not an update",
    );
    const snapshot: DashboardMessage = JSON.parse(b.data!);
    assert.equal(snapshot.state.actions, false);
    assert.equal((await sse.next()).event, "update");
  } finally {
    await sse.cancel();
    assert.equal(feed.subscribers, 0);
    assert.equal(feed.ticking, false);
    feed.close();
    pools.forEach((p) => p.pool.close());
  }
});
