/**
 * Tests for the demo backend: configuration parsing (pure), the handler
 * in-process on a loopback `Deno.serve`, and the real `backend.ts` program
 * as a child process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { UsageError } from "../lib/config/cli.ts";
import { type BackendConfig, backendName, parseBackendConfig } from "../lib/backend/config.ts";
import {
  type BackendApp,
  createBackendHandler,
  dataPattern,
  GZIP_TEXT,
} from "../lib/backend/app.ts";
import { runDeno, startDeno } from "./_process.ts";

// --- configuration ---------------------------------------------------------

function run(args: string[], env: Record<string, string> = {}): BackendConfig {
  const command = parseBackendConfig(args, env);
  assert.equal(command.kind, "run");
  return (command as { config: BackendConfig }).config;
}

function problems(args: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseBackendConfig(args, env);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    return err.problems;
  }
  assert.fail("expected a UsageError");
}

Deno.test("config: defaults", () => {
  const config = run([]);
  assert.deepEqual(config, {
    port: 8081,
    host: "0.0.0.0",
    name: undefined,
    logLevel: "info",
    logFormat: "text",
    shutdownTimeoutMs: 10_000,
  });
  assert.equal(backendName(config, 8081), "backend-8081");
  assert.equal(backendName(run(["--port", "0"]), 43210), "backend-43210");
});

Deno.test("config: environment variables", () => {
  const env = {
    SERVER_PORT: "9001",
    SERVER_HOST: "127.0.0.1",
    SERVER_NAME: "b1",
    LOG_LEVEL: "debug",
  };
  const config = run([], env);
  assert.equal(config.port, 9001);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.name, "b1");
  assert.equal(config.logLevel, "debug");
  // An empty variable counts as unset.
  assert.equal(run([], { SERVER_NAME: "", SERVER_PORT: "" }).port, 8081);
});

Deno.test("config: flags win over the environment", () => {
  const env = {
    SERVER_PORT: "9001",
    SERVER_HOST: "127.0.0.1",
    SERVER_NAME: "b1",
    LOG_LEVEL: "debug",
  };
  const config = run([
    "--port=9002",
    "--host",
    "::1",
    "--name",
    "b2",
    "--log-level",
    "error",
    "--log-format",
    "json",
    "--shutdown-timeout",
    "250ms",
  ], env);
  assert.deepEqual(config, {
    port: 9002,
    host: "::1",
    name: "b2",
    logLevel: "error",
    logFormat: "json",
    shutdownTimeoutMs: 250,
  });
});

Deno.test("config: --help and --version", () => {
  const help = parseBackendConfig(["--port", "1", "--help"], {});
  assert.equal(help.kind, "help");
  assert.match((help as { usage: string }).usage, /--shutdown-timeout/);
  const version = parseBackendConfig(["--version"], {});
  assert.equal(version.kind, "version");
  assert.match((version as { version: string }).version, /^backend \d+\.\d+\.\d+$/);
});

Deno.test("config: every problem is reported, naming flag and value", () => {
  const list = problems([
    "--port",
    "70000",
    "--host",
    "",
    "--name",
    " ",
    "--log-level",
    "loud",
    "--log-format",
    "xml",
    "--shutdown-timeout",
    "soon",
  ]);
  assert.deepEqual(list, [
    '--port: "70000" is not a port (expected 0-65535)',
    "--host: must not be empty",
    "--name: must not be empty",
    '--log-level: "loud" is not one of debug, info, warning, error',
    '--log-format: "xml" is not one of text, json',
    '--shutdown-timeout: "soon" is not a duration (expected e.g. 500ms, 5s, 1m)',
  ]);
  // Values from the environment are checked the same way, under the flag's name.
  assert.deepEqual(problems([], { SERVER_PORT: "http", LOG_LEVEL: "verbose" }), [
    '--port: "http" is not a port (expected 0-65535)',
    '--log-level: "verbose" is not one of debug, info, warning, error',
  ]);
  assert.match(problems(["--bogus"])[0], /--bogus: unknown flag/);
  assert.match(problems(["--port"])[0], /--port: needs a value/);
  assert.match(problems(["serve"])[0], /unexpected argument "serve"/);
});

// --- handler, in-process ---------------------------------------------------

const NAME = "test-backend";

async function withServer(fn: (base: string, app: BackendApp) => Promise<void>): Promise<void> {
  const app = createBackendHandler({ name: NAME, now: () => 1234 });
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    app.handler,
  );
  await fn(`http://127.0.0.1:${server.addr.port}`, app);
}

/** Fetches and reads the whole body, so no test leaks a response. */
async function get(url: string, init?: RequestInit): Promise<{ res: Response; body: string }> {
  const res = await fetch(url, init);
  return { res, body: await res.text() };
}

async function bytes(
  url: string,
  init?: RequestInit,
): Promise<{ res: Response; body: Uint8Array }> {
  const res = await fetch(url, init);
  return { res, body: await res.bytes() };
}

/** Fails with the first differing offset rather than dumping megabytes. */
function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`byte ${i}: ${actual[i]} !== ${expected[i]}`);
  }
}

Deno.test("handler: / describes the request as text", async () => {
  await withServer(async (base) => {
    const { res, body } = await get(`${base}/?x=1`, { headers: { "x-custom": "yes" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-backend-name"), NAME);
    assert.match(res.headers.get("content-type")!, /^text\/plain/);
    const lines = body.trimEnd().split("\n");
    assert.equal(lines[0], `Name: ${NAME}`);
    assert.equal(lines[1], "GET /?x=1 HTTP/1.1");
    assert.match(lines[2], /^RemoteAddr: 127\.0\.0\.1:\d+$/);
    assert.equal(lines[3], `Host: ${new URL(base).host}`);
    assert.ok(lines.includes("X-Custom: yes"), body);
  });
});

Deno.test("handler: /api describes the request as JSON", async () => {
  await withServer(async (base) => {
    const { res, body } = await get(`${base}/api?q=2`, {
      method: "POST",
      headers: { "x-forwarded-for": "10.0.0.1" },
      body: "ignored",
    });
    assert.equal(res.headers.get("x-backend-name"), NAME);
    const json = JSON.parse(body);
    assert.equal(json.name, NAME);
    assert.equal(json.method, "POST");
    assert.equal(json.url, "/api?q=2");
    assert.equal(json.host, new URL(base).host);
    assert.match(json.remoteAddr, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(json.headers["x-forwarded-for"], ["10.0.0.1"]);
    assert.deepEqual(json.headers.host, [new URL(base).host]);
    const nested = JSON.parse((await get(`${base}/api/a/b%20c?d=e`)).body);
    assert.equal(nested.url, "/api/a/b%20c?d=e");
  });
});

Deno.test("handler: health endpoints, and /readyz fails once shutting down", async () => {
  await withServer(async (base, app) => {
    for (const path of ["/livez", "/healthz"]) {
      const { res, body } = await get(base + path);
      assert.deepEqual([res.status, body], [200, "ok"], path);
    }
    let ready = await get(`${base}/readyz`);
    assert.deepEqual([ready.res.status, ready.body], [200, "ready"]);
    assert.equal(app.shuttingDown, false);
    app.setShuttingDown();
    assert.equal(app.shuttingDown, true);
    ready = await get(`${base}/readyz`);
    assert.equal(ready.res.status, 503);
    assert.equal(ready.res.headers.get("x-backend-name"), NAME);
    // Liveness is unaffected: the process is fine, just leaving.
    assert.equal((await get(`${base}/livez`)).res.status, 200);
  });
});

Deno.test("handler: /data streams exactly N pattern bytes", async () => {
  // The pattern is printable ASCII from "!" with period 94, as documented.
  assert.deepEqual([...dataPattern(0, 3)], [33, 34, 35]);
  assert.deepEqual([...dataPattern(93, 2)], [126, 33]);
  assertBytes(dataPattern(70_000, 10), dataPattern(0, 70_010).subarray(70_000));
  await withServer(async (base) => {
    const size = 200_000; // not a multiple of the chunk size
    const { res, body } = await bytes(`${base}/data?size=${size}`);
    assert.equal(res.headers.get("content-length"), String(size));
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assertBytes(body, dataPattern(0, size));
    assert.equal((await bytes(`${base}/data`)).body.length, 1024);
    assert.equal((await bytes(`${base}/data?size=0`)).body.length, 0);
    const head = await bytes(`${base}/data?size=5000`, { method: "HEAD" });
    assert.equal(head.res.headers.get("content-length"), "5000");
    assert.equal(head.body.length, 0);
    for (const bad of ["-1", "abc", "1.5", String(2 ** 30 + 1)]) {
      const { res, body } = await get(`${base}/data?size=${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(body, /^size: /);
    }
  });
});

Deno.test("handler: /echo returns the body and its Content-Type", async () => {
  await withServer(async (base) => {
    const { res, body } = await get(`${base}/echo`, {
      method: "PUT",
      headers: { "content-type": "application/x-test" },
      body: "hello, echo",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-test");
    assert.equal(body, "hello, echo");
    assert.equal((await get(`${base}/echo`)).body, "");
  });
});

/** Reads server-sent events as they arrive, with the time each one completed. */
async function readEvents(res: Response): Promise<{ at: number; event: string }[]> {
  const events: { at: number; event: string }[] = [];
  let buffered = "";
  for await (const text of res.body!.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      events.push({ at: performance.now(), event: buffered.slice(0, end) });
      buffered = buffered.slice(end + 2);
    }
  }
  assert.equal(buffered, "", "trailing partial event");
  return events;
}

Deno.test("handler: /stream sends server-sent events and stops when the client leaves", async () => {
  await withServer(async (base) => {
    const res = await fetch(`${base}/stream?count=3&interval=10ms`);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const events = await readEvents(res);
    assert.deepEqual(
      events.map((e) => e.event),
      [1, 2, 3].map((i) => `id: ${i}\ndata: {"i":${i},"name":"${NAME}","time":1234}`),
    );
    assert.equal((await get(`${base}/stream?count=0`)).body, "");
    for (const bad of ["count=x", "interval=5", "count=100001"]) {
      assert.equal((await get(`${base}/stream?${bad}`)).res.status, 400, bad);
    }
    // A client that leaves early: the server must stop its timer (the
    // sanitizers fail the test otherwise) and shut down promptly.
    const long = await fetch(`${base}/stream?count=1000&interval=20ms`);
    const reader = long.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /^id: 1\n/);
    await reader.cancel();
  });
});

Deno.test("handler: /gzip is gzip-encoded with an exact Content-Length", async () => {
  await withServer(async (base) => {
    // Deno's fetch decodes gzip whatever it was asked (DENO-NOTES), so read
    // the raw bytes over a socket to see what a proxy would receive.
    const raw = await rawGet(new URL(base), "/gzip");
    const [head, body] = splitResponse(raw);
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /\r\ncontent-encoding: gzip\r\n/i);
    assert.match(head, /\r\ncontent-type: text\/plain/i);
    const length = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(head)?.[1]);
    assert.equal(body.length, length);
    assert.ok(length < GZIP_TEXT.length / 4, `compressed to ${length} bytes`);
    const decoded = await new Response(
      new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(decoded, GZIP_TEXT);
  });
});

/** One HTTP/1.1 GET with `Connection: close`, returning every byte the server sent. */
async function rawGet(base: URL, path: string): Promise<Uint8Array<ArrayBuffer>> {
  using conn = await Deno.connect({ hostname: base.hostname, port: Number(base.port) });
  const request = `GET ${path} HTTP/1.1\r\nHost: ${base.host}\r\nConnection: close\r\n\r\n`;
  await conn.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(16 * 1024);
  for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  chunks.reduce((offset, c) => (out.set(c, offset), offset + c.length), 0);
  return out;
}

function splitResponse(raw: Uint8Array<ArrayBuffer>): [string, Uint8Array<ArrayBuffer>] {
  const end = new TextDecoder("latin1").decode(raw).indexOf("\r\n\r\n");
  assert.ok(end > 0, "no end of head");
  return [new TextDecoder().decode(raw.subarray(0, end + 2)), raw.subarray(end + 4)];
}

Deno.test("handler: /cookies sets two separate cookies; /redirect answers 302", async () => {
  await withServer(async (base) => {
    const { res } = await get(`${base}/cookies`);
    assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    const redirect = await get(`${base}/redirect?to=/elsewhere`, { redirect: "manual" });
    assert.equal(redirect.res.status, 302);
    assert.equal(redirect.res.headers.get("location"), "/elsewhere");
    assert.equal(redirect.res.headers.get("x-backend-name"), NAME);
    for (const bad of ["", "?to=", "?to=%0d%0aX-Evil:%201"]) {
      assert.equal((await get(`${base}/redirect${bad}`)).res.status, 400, bad);
    }
  });
});

Deno.test("handler: ?status= sets the status on any path", async () => {
  await withServer(async (base) => {
    let r = await get(`${base}/anything?status=503`);
    assert.equal(r.res.status, 503);
    assert.equal(r.res.headers.get("x-backend-name"), NAME);
    r = await get(`${base}/?status=500`);
    assert.equal(r.res.status, 500);
    assert.match(r.body, /^Name: test-backend\n/);
    r = await get(`${base}/data?size=10&status=204`);
    assert.deepEqual([r.res.status, r.body, r.res.headers.get("content-length")], [204, "", null]);
    assert.deepEqual([(await get(`${base}/?status=304`)).res.status], [304]);
    for (const bad of ["abc", "99", "600", "2000", ""]) {
      r = await get(`${base}/?status=${bad}`);
      assert.equal(r.res.status, 400, bad);
      assert.match(r.body, /^status: /);
    }
    r = await get(`${base}/nope`);
    assert.deepEqual([r.res.status, r.body], [404, "not found: /nope\n"]);
  });
});

Deno.test("handler: ?wait= delays the answer", async () => {
  await withServer(async (base) => {
    const start = performance.now();
    const r = await get(`${base}/livez?wait=60ms`);
    assert.equal(r.res.status, 200);
    assert.ok(performance.now() - start >= 55, "answered too early");
    const bad = await get(`${base}/?wait=soon`);
    assert.equal(bad.res.status, 400);
    assert.match(bad.body, /^wait: "soon" is not a duration/);
  });
});

Deno.test("handler: ?wait= gives up when the client leaves", async () => {
  const app = createBackendHandler({ name: NAME });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.handler);
  const abort = new AbortController();
  const pending = fetch(`http://127.0.0.1:${server.addr.port}/?wait=10s`, { signal: abort.signal });
  setTimeout(() => abort.abort(), 50);
  await assert.rejects(pending);
  // shutdown() waits for in-flight requests: it is quick only if the wait ended.
  const start = performance.now();
  await server.shutdown();
  assert.ok(performance.now() - start < 2000, "the 10 s wait was not abandoned");
});

// --- the real program ------------------------------------------------------

Deno.test("backend.ts: serves a real process on port 0", async (t) => {
  await using proc = await startDeno("backend.ts", [
    "--port=0",
    "--host=127.0.0.1",
    "--name=it-backend",
  ]);
  const base = `http://127.0.0.1:${proc.port}`;

  await t.step("prints exactly one listen line with the bound port", () => {
    assert.ok(proc.port > 0);
    assert.match(
      proc.match.input!,
      new RegExp(`backend it-backend listening on http://127\\.0\\.0\\.1:${proc.port}$`),
    );
    assert.equal(proc.lines().filter((l) => /listening on/.test(l)).length, 1);
  });

  await t.step("answers / with its name", async () => {
    const { res, body } = await get(`${base}/`);
    assert.equal(res.headers.get("x-backend-name"), "it-backend");
    assert.match(body, /^Name: it-backend\n/);
  });

  await t.step("/data sends exact bytes", async () => {
    const size = 3 * 1024 * 1024 + 7;
    const { res, body } = await bytes(`${base}/data?size=${size}`);
    assert.equal(res.headers.get("content-length"), String(size));
    assertBytes(body, dataPattern(0, size));
  });

  await t.step("/echo round-trips a few MB byte-exact, streamed both ways", async () => {
    const payload = dataPattern(12345, 4 * 1024 * 1024);
    const chunk = 256 * 1024;
    let offset = 0;
    const upload = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(payload.slice(offset, offset + chunk));
        offset += chunk;
        if (offset >= payload.length) controller.close();
      },
    });
    const { res, body } = await bytes(`${base}/echo`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: upload,
      duplex: "half",
    } as RequestInit);
    assert.equal(res.status, 200);
    assertBytes(body, payload);
  });

  await t.step("/stream events arrive spaced out", async () => {
    const start = performance.now();
    const events = await readEvents(await fetch(`${base}/stream?count=3&interval=150ms`));
    assert.equal(events.length, 3);
    assert.match(events[2].event, /^id: 3\ndata: \{"i":3,"name":"it-backend","time":\d+\}$/);
    assert.ok(events[2].at - start >= 290, "two intervals should pass");
    // Half the interval: a busy test runner may read one event late, but
    // events that were batched together would arrive with no gap at all.
    for (let i = 1; i < events.length; i++) {
      const gap = events[i].at - events[i - 1].at;
      assert.ok(gap >= 75, `event ${i + 1} came ${gap.toFixed(0)} ms after the previous`);
    }
  });

  await t.step("?status= and ?wait=", async () => {
    assert.equal((await get(`${base}/anything?status=503`)).res.status, 503);
    const start = performance.now();
    const { res } = await get(`${base}/api?wait=100ms&status=202`);
    assert.equal(res.status, 202);
    assert.ok(performance.now() - start >= 95);
  });
});

Deno.test("backend.ts: --help, --version and bad flags", async () => {
  const [help, version, bad] = await Promise.all([
    runDeno("backend.ts", ["--help"]),
    runDeno("backend.ts", ["--version"]),
    runDeno("backend.ts", ["--port", "http", "--log-format", "xml"]),
  ]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: backend \[flags\]$/m);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^backend \d+\.\d+\.\d+\n$/);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.deepEqual(bad.stderr.trimEnd().split("\n"), [
    'backend: --port: "http" is not a port (expected 0-65535)',
    'backend: --log-format: "xml" is not one of text, json',
  ]);
});

Deno.test("backend.ts: SIGTERM lets an in-flight request finish, then exits 0", async () => {
  await using proc = await startDeno("backend.ts", [
    "--port=0",
    "--host=127.0.0.1",
    "--log-level=debug",
  ]);
  // Without --name the name comes from the port actually bound.
  const name = `backend-${proc.port}`;
  assert.match(proc.match.input!, new RegExp(`backend ${name} listening on`));
  const slow = get(`http://127.0.0.1:${proc.port}/?wait=1s`);
  await proc.waitForLine(/request GET .*wait=1s/);
  proc.signal("SIGTERM");
  await proc.waitForLine(/SIGTERM: shutting down/);
  const { res, body } = await slow;
  assert.equal(res.status, 200);
  assert.match(body, new RegExp(`^Name: ${name}\n`));
  const status = await proc.status;
  assert.equal(status.code, 0, proc.lines().join("\n"));
  assert.match(proc.lines().at(-1)!, /stopped$/);
});
