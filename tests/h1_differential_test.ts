/**
 * Differential tests: the same requests through H1Transport and
 * NodeHttpTransport against real servers must give the same status, header
 * fields and body bytes. Servers: the project's backend.ts, a node:http
 * server in this process (chunked bodies with trailers, repeated fields,
 * custom reason phrases) and NGINX when it is installed.
 *
 * Headers are compared as raw multimaps: the `[name, value]` lists in
 * arrival order, duplicates kept, hop-by-hop fields included (both
 * transports report what the backend sent; stripping is the proxy's job),
 * ignoring only `date`. Where a body embeds the client's address
 * (backend.ts `/` and `/api`) or a clock, those are normalized, and then
 * Content-Length is checked against each body instead of across transports.
 * Both transports are sent identical request fields, `connection:
 * keep-alive` included, which node:http would otherwise add by itself.
 */

import assert from "node:assert/strict";
import http from "node:http";
import { NodeHttpTransport } from "../lib/transport/node_http.ts";
import type { HeaderPairs, Transport, UpstreamTarget } from "../lib/core/transport.ts";
import { startDeno } from "./_process.ts";
import {
  bodyBytes,
  deadPort,
  delay,
  h1,
  latin1Bytes,
  latin1Text,
  OPTIONS,
  targetOf,
  upstreamRequest,
  within,
} from "./_h1.ts";

/** One request to send through both transports. */
interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  /** Extra request fields, after host, connection and accept. */
  readonly headers?: HeaderPairs;
  readonly body?: string;
  /** Rewrites parts of the body that legitimately differ (client port, clock). */
  readonly normalize?: (body: string) => string;
  /** Send the body as bytes (head and body in one write) rather than as a stream. */
  readonly buffered?: boolean;
  /**
   * The server picks the response framing by when the body arrives, so
   * `content-length`, `transfer-encoding` and `connection` are left out.
   */
  readonly framingMayDiffer?: boolean;
  /** What the case is meant to exercise, checked so it can't silently drift. */
  readonly expect?: {
    readonly status?: number;
    readonly has?: HeaderPairs;
    readonly noBody?: true;
  };
}

/** What a transport answered, in comparable form. */
interface Seen {
  readonly status: number;
  readonly headers: HeaderPairs;
  /** Latin1 text of the body; null when the transport gave no body at all. */
  readonly body: string | null;
}

const FRAMING_FIELDS = new Set(["content-length", "transfer-encoding", "connection"]);
const CLIENT_PORT = /127\.0\.0\.1:\d+/g;
const normalizeClient = (s: string) => s.replace(CLIENT_PORT, "127.0.0.1:PORT");

async function exchange(t: Transport, target: UpstreamTarget, c: Case): Promise<Seen> {
  const headers: HeaderPairs = [["host", "diff.test"], ["connection", "keep-alive"], [
    "accept",
    "*/*",
  ], ...(c.headers ?? [])];
  if (c.body !== undefined) headers.push(["content-length", String(c.body.length)]);
  const res = await within(
    t.request(
      target,
      upstreamRequest({
        method: c.method ?? "GET",
        path: c.path,
        headers,
        body: c.body === undefined
          ? null
          : c.buffered
          ? latin1Bytes(c.body)
          : new Blob([latin1Bytes(c.body)]).stream(),
      }),
    ),
    10_000,
    `${c.name}: response`,
  );
  const body = res.body === null ? null : latin1Text(await bodyBytes(res.body));
  let fields = res.headers.filter(([n]) => n !== "date");
  let text = body;
  if (c.normalize && body !== null) {
    // Content-Length must match this body; it may differ from the other one's.
    const length = fields.find(([n]) => n === "content-length")?.[1];
    if (length !== undefined) assert.equal(Number(length), body.length, `${c.name}: length`);
    fields = fields.filter(([n]) => n !== "content-length");
    text = c.normalize(body);
  }
  if (c.framingMayDiffer) fields = fields.filter(([n]) => !FRAMING_FIELDS.has(n));
  return { status: res.status, headers: fields, body: text };
}

/** Runs every case through both transports as steps, comparing results. */
async function compare(t: Deno.TestContext, target: UpstreamTarget, cases: readonly Case[]) {
  await using fast = h1();
  const node = new NodeHttpTransport(OPTIONS);
  try {
    for (const c of cases) {
      await t.step(c.name, async () => {
        const a = await exchange(fast, target, c);
        const b = await exchange(node, target, c);
        assert.deepEqual(a, b);
        if (c.expect?.status !== undefined) assert.equal(a.status, c.expect.status);
        for (const field of c.expect?.has ?? []) {
          assert.ok(a.headers.some(([n, v]) => n === field[0] && v === field[1]), `${field}`);
        }
        if (c.expect?.noBody) assert.equal(a.body, null);
      });
    }
  } finally {
    await node.close();
  }
}

Deno.test("differential: backend.ts routes", async (t) => {
  await using backend = await startDeno("backend.ts", [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--name",
    "diff",
  ]);
  const target = targetOf(backend.port);
  await compare(t, target, [
    { name: "GET / (whoami text)", path: "/", normalize: normalizeClient },
    { name: "GET /api (JSON)", path: "/api?x=1", normalize: normalizeClient },
    {
      name: "GET /data?size=100000 (streamed)",
      path: "/data?size=100000",
      expect: { has: [["content-length", "100000"]] },
    },
    { name: "GET /data?size=0", path: "/data?size=0" },
    {
      name: "GET /gzip (encoded bytes untouched)",
      path: "/gzip",
      expect: { has: [["content-encoding", "gzip"]] },
    },
    {
      name: "GET /cookies (two Set-Cookie)",
      path: "/cookies",
      expect: { has: [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"]] },
    },
    {
      name: "GET /redirect (302)",
      path: "/redirect?to=/x",
      expect: { status: 302, has: [["location", "/x"]] },
    },
    { name: "GET /anything?status=418", path: "/anything?status=418", expect: { status: 418 } },
    {
      name: "GET /anything?status=204",
      path: "/anything?status=204",
      expect: { status: 204, noBody: true },
    },
    { name: "GET /missing (404)", path: "/missing" },
    {
      name: "POST /echo, body as bytes",
      method: "POST",
      path: "/echo",
      headers: [["content-type", "text/plain"]],
      body: "hello differential\r\n\xff\x00",
      buffered: true,
    },
    {
      // H1Transport writes the head, then the streamed body; node:http sends
      // the head with the first piece of body. Deno.serve, answering /echo
      // before the body is in, then streams its answer chunked and closes
      // the connection (connection: close) for H1Transport, while for
      // node:http it has the whole body and sends a Content-Length.
      name: "POST /echo, body as a stream",
      method: "POST",
      path: "/echo",
      headers: [["content-type", "text/plain"]],
      body: "hello differential\r\n\xff\x00",
      framingMayDiffer: true,
    },
    {
      name: "HEAD /data?size=10",
      method: "HEAD",
      path: "/data?size=10",
      expect: { has: [["content-length", "10"]], noBody: true },
    },
    {
      name: "GET /stream (server-sent events, chunked)",
      path: "/stream?count=3&interval=10ms",
      normalize: (s) => s.replace(/"time":\d+/g, '"time":0'),
      expect: { has: [["transfer-encoding", "chunked"]] },
    },
  ]);
});

/** A node:http server in this process for what backend.ts doesn't send. */
function nodeServer(): Promise<{ target: UpstreamTarget; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    switch (req.url) {
      case "/trailers":
        res.writeHead(200, "Fine Thanks", { "content-type": "text/plain", trailer: "x-sum" });
        res.write("hello ");
        res.write("world");
        res.addTrailers({ "x-sum": "abc" });
        res.end();
        break;
      case "/big-chunked": {
        res.setHeader("content-type", "application/octet-stream");
        for (let i = 0; i < 5; i++) res.write(new Uint8Array(30_000).fill(65 + i));
        res.end();
        break;
      }
      case "/cookies":
        res.statusCode = 299;
        res.statusMessage = "Custom Reason";
        res.setHeader("set-cookie", ["a=1; Path=/", "b=2; HttpOnly"]);
        res.setHeader("x-multi", ["1", "2"]);
        res.setHeader("x-spaces", "  padded  ");
        res.end("ok");
        break;
      case "/no-reason":
        res.statusCode = 200;
        res.statusMessage = "";
        res.setHeader("x-obs", "caf\xe9");
        res.end("x");
        break;
      case "/204":
        res.writeHead(204, "Nothing Here");
        res.end();
        break;
      default:
        res.writeHead(404, "Nope", { "content-length": "9" });
        res.end(req.method === "HEAD" ? undefined : "not found");
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        target: targetOf(port),
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

Deno.test("differential: node:http server (trailers, repeated fields, reasons)", async (t) => {
  const server = await nodeServer();
  try {
    await compare(t, server.target, [
      {
        name: "chunked with trailers",
        path: "/trailers",
        expect: { has: [["transfer-encoding", "chunked"]] },
      },
      {
        name: "large chunked body",
        path: "/big-chunked",
        expect: { has: [["transfer-encoding", "chunked"]] },
      },
      {
        name: "299 Custom Reason, repeated Set-Cookie and fields",
        path: "/cookies",
        expect: { status: 299, has: [["x-multi", "1"], ["x-multi", "2"]] },
      },
      { name: "empty reason phrase, non-ASCII value", path: "/no-reason" },
      { name: "204 with a reason", path: "/204", expect: { status: 204, noBody: true } },
      { name: "404", path: "/nothing" },
      {
        name: "HEAD 404 with Content-Length",
        method: "HEAD",
        path: "/nothing",
        expect: { status: 404, noBody: true },
      },
    ]);
  } finally {
    await server.close();
  }
});

const NGINX = "/usr/sbin/nginx";

function nginxConfig(dir: string, port: number): string {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type application/octet-stream;
  if_modified_since before;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location = /gone { return 404; }
    location = /teapot {
      add_header Set-Cookie "a=1" always;
      add_header Set-Cookie "b=2" always;
      return 418 "short and stout\\n";
    }
    location /gz/ { gzip on; gzip_types application/octet-stream; gzip_min_length 1; }
  }
}
`;
}

/** Waits until something accepts connections on `port`. */
async function waitForPort(port: number, child: Deno.ChildProcess, log: string): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (exited) break;
      await delay(20);
    }
  }
  const errors = await Deno.readTextFile(log).catch(() => "(no error log)");
  throw new Error(`nginx did not start on port ${port}:\n${errors}`);
}

Deno.test("differential: nginx (static files, return 404, gzip chunked)", async (t) => {
  try {
    await Deno.stat(NGINX);
  } catch {
    console.log(
      "h1_differential_test: nginx not installed (apt-get install nginx-light); skipping the nginx case",
    );
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "h1_diff_nginx_" });
  let child: Deno.ChildProcess | undefined;
  try {
    await Deno.mkdir(`${dir}/www/gz`, { recursive: true });
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} of a static file\n`).join("");
    await Deno.writeTextFile(`${dir}/www/small.txt`, "static\n");
    await Deno.writeTextFile(`${dir}/www/gz/text.txt`, text);
    await Deno.writeFile(
      `${dir}/www/big.bin`,
      Uint8Array.from({ length: 200_000 }, (_, i) => (i * 13) & 0xff),
    );
    const port = deadPort();
    await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig(dir, port));
    child = new Deno.Command(NGINX, {
      args: ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, child, `${dir}/error.log`);
    await compare(t, targetOf(port), [
      { name: "small static file", path: "/small.txt" },
      {
        name: "200 KB static file (sendfile, streamed)",
        path: "/big.bin",
        expect: { has: [["content-length", "200000"]] },
      },
      { name: "HEAD of a static file", method: "HEAD", path: "/big.bin", expect: { noBody: true } },
      {
        name: "conditional GET: 304",
        path: "/small.txt",
        headers: [["if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT"]],
        expect: { status: 304, noBody: true },
      },
      { name: "return 404", path: "/gone", expect: { status: 404 } },
      { name: "missing file", path: "/nope" },
      {
        name: "return 418 with two Set-Cookie",
        path: "/teapot",
        expect: { status: 418, has: [["set-cookie", "a=1"], ["set-cookie", "b=2"]] },
      },
      {
        name: "gzip on the fly (chunked)",
        path: "/gz/text.txt",
        headers: [["accept-encoding", "gzip"]],
        expect: { has: [["transfer-encoding", "chunked"], ["content-encoding", "gzip"]] },
      },
      {
        name: "range request: 206",
        path: "/big.bin",
        headers: [["range", "bytes=10-99"]],
        expect: { status: 206, has: [["content-length", "90"]] },
      },
    ]);
  } finally {
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
