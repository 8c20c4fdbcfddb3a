/**
 * The per-request JavaScript cost of the lb's request path without sockets:
 * the h1 front's request parser, the proxy core with a fake transport that
 * encodes the upstream head and parses a canned NGINX response head, and
 * the reply writer into a sink that keeps nothing. Prints µs per request
 * for the whole path and for the two parsers. For profiling:
 * `deno run -A --cpu-prof scripts/bench/core_path.ts`. Machines here are
 * noisy: compare runs made one after the other, not across sessions.
 *
 * @module
 */

import { createProxy } from "../../lib/proxy/handler.ts";
import { createUpstream } from "../../lib/proxy/upstream.ts";
import { compileRoutes } from "../../lib/routing/router.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { Pool } from "../../lib/pool/pool.ts";
import { createStrategy } from "../../lib/balancing/mod.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { log } from "../../lib/core/logging.ts";
import { findRequestHeadEnd, parseRequestHead } from "../../lib/front/h1/request_head.ts";
import { writeReply } from "../../lib/front/h1/reply_writer.ts";
import {
  findHeadEnd,
  keepAlive,
  parseResponseHead,
  responseFraming,
} from "../../lib/transport/h1/head.ts";
import { latin1 } from "../../lib/http1/syntax.ts";
import { requestHead } from "../../lib/transport/h1/request.ts";
import { writeHead } from "../../lib/http1/head_writes.ts";
import type { Transport } from "../../lib/core/transport.ts";

const cmd = parseLbArgs(
  ["--backends", "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3"],
  {},
);
if (cmd.kind !== "run") throw 0;
const poolConfig = cmd.config.pools[0];
const pool = new Pool(poolConfig.backends, poolConfig.health, Date.now(), {
  name: poolConfig.name,
  ewmaDecayMs: poolConfig.balancing.ewmaDecayMs,
  slowStartMs: poolConfig.balancing.slowStartMs,
});
const respHead = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 22:36:54 GMT\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nConnection: keep-alive\r\n\r\n",
);
const body = new Uint8Array(100);
/** Where the request head and the reply are written: nowhere. */
const sink = { write: (_d: Uint8Array) => Promise.resolve() };
const transport: Transport = {
  tunnels: true,
  async request(_t, req) {
    await writeHead(sink, requestHead(req.method, req.path, req.headers, "none"));
    const end = findHeadEnd(respHead, 0, respHead.length);
    const head = parseResponseHead(latin1(respHead, 0, end));
    const framing = responseFraming(head, req.method);
    keepAlive(head, framing);
    return { status: head.status, headers: head.fields, body: body.slice() };
  },
  close: () => Promise.resolve(),
};
const strategy = createStrategy("round-robin", {
  random: Math.random,
  balancing: poolConfig.balancing,
});
const core = createProxy({
  upstreams: new Map([[poolConfig.name, createUpstream(pool, poolConfig, strategy, transport)]]),
  router: compileRoutes([{
    name: "default",
    match: {},
    target: { kind: "pool", pool: poolConfig.name },
  }]),
  metrics: createLbMetrics(),
  log: log("lb"),
  trustProxy: [],
  noRouteStatus: 404,
});
const reqBytes = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
);
const signal = new AbortController().signal;
async function one() {
  const end = findRequestHeadEnd(reqBytes, 0, reqBytes.length);
  const head = parseRequestHead(reqBytes, 0, end);
  const ex = await core.handle({
    method: head.method,
    path: head.path,
    host: head.host,
    headers: head.fields,
    body: null,
    contentLength: undefined,
    signal,
    clientIp: "127.0.0.1",
    upgrade: head.upgrade,
  });
  // A 404 or 502 would time the error path instead.
  if (ex.reply.status !== 200) throw new Error(`the core answered ${ex.reply.status}`);
  const sent = await writeReply(sink, head.method, head.minor, ex.reply, false);
  ex.finish(sent.bytes);
}
for (let i = 0; i < 50000; i++) await one();
const N = 300000;
let t = performance.now();
for (let i = 0; i < N; i++) await one();
console.log("full path", ((performance.now() - t) * 1000 / N).toFixed(2), "µs");
t = performance.now();
for (let i = 0; i < N; i++) {
  const end = findRequestHeadEnd(reqBytes, 0, reqBytes.length);
  parseRequestHead(reqBytes, 0, end);
}
console.log("request parse", ((performance.now() - t) * 1000 / N).toFixed(2), "µs");
t = performance.now();
for (let i = 0; i < N; i++) {
  const end = findHeadEnd(respHead, 0, respHead.length);
  const head = parseResponseHead(latin1(respHead, 0, end));
  keepAlive(head, responseFraming(head, "GET"));
}
console.log("response parse", ((performance.now() - t) * 1000 / N).toFixed(2), "µs");
