/**
 * The access log through a real lb process in front of a real loopback
 * backend: JSON lines with a chosen field set in a file (a route with
 * `policies.access-log: false` left out), a template with request IDs,
 * NGINX's combined on stdout, and logrotate's flow (rename, SIGUSR1, new
 * lines in a new file, nothing lost), on one thread and with `--workers 2`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { httpServer, rawRequest } from "../_http.ts";
import { type LbProcess, startLb, waitFor } from "../_lb.ts";

/** A backend answering `hello` (5 bytes) to everything. */
function helloBackend() {
  return httpServer(() => new Response("hello"));
}

/** A temporary directory, removed at the end of the test. */
async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "lb-access-log-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

async function linesOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text === "" ? [] : text.split("\n").slice(0, -1);
}

/** Waits until `path` has `n` lines (the writer flushes within 50 ms). */
async function waitForLines(path: string, n: number): Promise<string[]> {
  await waitFor(async () => (await linesOf(path)).length >= n, 5000, `${n} lines in ${path}`);
  return await linesOf(path);
}

/** A GET on a fresh connection (so `--workers` spreads them). */
async function get(lb: LbProcess, path: string, more: string[] = []): Promise<number> {
  const res = await rawRequest(lb.port, [`GET ${path} HTTP/1.1`, "Host: site.test", ...more]);
  return res.status;
}

async function metric(lb: LbProcess, event: string): Promise<number> {
  const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
  const m = new RegExp(`lb_access_log_events_total\\{event="${event}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

Deno.test("json lines with a chosen field set go to the file; a route with access-log: false is left out", async () => {
  await using backend = helloBackend();
  await using dir = await tempDir();
  const config = join(dir.path, "lb.yaml");
  await Deno.writeTextFile(
    config,
    "routes:\n" +
      "  - { name: health, match: { path: /healthz }, pool: default, policies: { access-log: false } }\n" +
      "  - { name: site, match: {}, pool: default }\n",
  );
  const log = join(dir.path, "access.log");
  await using lb = await startLb([backend.origin], [
    "--config",
    config,
    "--access-log-fields",
    "time,method,path,status,bytes,route,user_agent,referer,protocol",
    "--access-log-file",
    log,
  ]);
  assert.equal(await get(lb, "/healthz"), 200);
  assert.equal(await get(lb, "/a?x=1", ['User-Agent: ua "quoted" café', "Referer: "]), 200);
  const res = await fetch(`${lb.url}/b`, { method: "POST", body: "x" });
  assert.equal(await res.text(), "hello");
  const lines = await waitForLines(log, 2);
  const records = lines.map((l) => JSON.parse(l));
  for (const r of records) {
    assert.deepEqual(Object.keys(r), [
      "time",
      "method",
      "path",
      "status",
      "bytes",
      "route",
      "user_agent",
      "referer",
      "protocol",
    ]);
    assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 60_000, r.time);
  }
  const get1 = records.find((r) => r.method === "GET");
  assert.deepEqual({ ...get1, time: undefined }, {
    time: undefined,
    method: "GET",
    path: "/a?x=1",
    status: 200,
    bytes: 5,
    route: "site",
    user_agent: 'ua "quoted" café', // the bytes, read as UTF-8
    referer: "",
    protocol: "HTTP/1.1",
  });
  const post = records.find((r) => r.method === "POST");
  assert.equal(post.path, "/b");
  assert.equal(post.referer, null);
  assert.equal(lines.length, 2, "/healthz is not logged");
  // The lines went to the file only: stdout carries the lb's own log.
  assert.ok(!lb.proc.lines().some((l) => l.includes("/a?x=1")));
});

Deno.test("a template to a file, with request IDs", async () => {
  await using backend = helloBackend();
  await using dir = await tempDir();
  const config = join(dir.path, "lb.yaml");
  await Deno.writeTextFile(config, "policies: { request-id: true }\n");
  const log = join(dir.path, "access.log");
  await using lb = await startLb([backend.origin], [
    "--config",
    config,
    "--access-log-template",
    '$method ${path}! $status $bytes "$user_agent" $route rid=$request_id $$',
    "--access-log-file",
    log,
  ]);
  assert.equal(await get(lb, "/t", ["User-Agent: a\\b"]), 200);
  const [line] = await waitForLines(log, 1);
  assert.match(
    line,
    /^GET \/t! 200 5 "a\\x5Cb" default rid=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} \$$/,
  );
});

Deno.test("NGINX's combined format on stdout", async () => {
  await using backend = helloBackend();
  await using lb = await startLb([backend.origin], ["--access-log-format", "combined"]);
  assert.equal(await get(lb, "/c?q=1", ['User-Agent: x"y']), 200);
  const m = await lb.proc.waitForLine(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/c\?q=1 HTTP\/1\.1" /);
  assert.match(
    m.input!,
    /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/c\?q=1 HTTP\/1\.1" 200 5 "-" "x\\x22y"$/,
  );
});

/**
 * logrotate's flow against `lb` started with `extra`: lines, rename, lines
 * (to the old file: not reopened yet), SIGUSR1, lines while it reopens,
 * and once every thread reopened (`reopens` counted), lines that must land
 * in the new file. Every line is in one file or the other, once.
 */
async function rotate(extra: string[], reopens: number): Promise<void> {
  await using backend = helloBackend();
  await using dir = await tempDir();
  const log = join(dir.path, "access.log");
  const lb = await startLb([backend.origin], [
    "--access-log-format",
    "common",
    "--access-log-file",
    log,
    ...extra,
  ]);
  try {
    const send = (from: number, to: number) =>
      Promise.all(Array.from({ length: to - from }, (_, i) => get(lb, `/r/${from + i}`)));
    await send(0, 20);
    await waitForLines(log, 20);
    await Deno.rename(log, `${log}.1`);
    await send(20, 30);
    lb.proc.signal("SIGUSR1");
    await send(30, 40);
    await waitFor(async () => (await metric(lb, "reopen")) >= reopens, 5000, "the reopens");
    assert.equal(await metric(lb, "reopen"), reopens);
    await send(40, 60);
    await lb.proc.waitForLine(/access log .*access\.log: reopened/);
  } finally {
    // Shutdown flushes what is queued.
    assert.equal(await lb.stop(), 0);
  }
  const old = await linesOf(`${log}.1`);
  const fresh = await linesOf(log);
  const paths = (lines: string[]) =>
    lines.map((l) => {
      assert.match(l, /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/r\/\d+ HTTP\/1\.1" 200 5$/);
      return Number(/\/r\/(\d+)/.exec(l)![1]);
    });
  const before = paths(old);
  const after = paths(fresh);
  assert.deepEqual(
    [...before, ...after].sort((a, b) => a - b),
    Array.from({ length: 60 }, (_, i) => i),
  );
  for (let i = 0; i < 20; i++) assert.ok(before.includes(i), `${i} in the old file`);
  for (let i = 40; i < 60; i++) assert.ok(after.includes(i), `${i} in the new file`);
}

Deno.test("logrotate: rename, SIGUSR1, new lines in a new file, nothing lost", async () => {
  await rotate([], 1);
});

Deno.test("logrotate with --workers 2: the main thread tells each worker to reopen", async () => {
  // The main thread keeps an access log too (in-process requests): three reopens.
  await rotate(["--workers", "2"], 3);
});
