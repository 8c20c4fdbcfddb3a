/**
 * The compression policy's moving parts without sockets: the three codings
 * round-trip whole and chunked, every chunk is flushed (a slow body's bytes
 * decode before the next arrives), the stream reads nothing ahead, a
 * client leaving cancels the source and a failing source fails the stream,
 * and the policy's response phase (bodies in hand, streams, HEAD, Vary,
 * no-transform, the stream cap and the metrics).
 */

import assert from "node:assert/strict";
import { fakeExchange } from "./_exchange.ts";
import zlib from "node:zlib";
import { chunkCompressor, compressWhole } from "../../lib/policy/compress_codecs.ts";
import { compressedBody } from "../../lib/policy/compress_stream.ts";
import { createCompression } from "../../lib/policy/compression.ts";
import { PolicyRuntime } from "../../lib/policy/runtime.ts";
import type { Policy, PolicyExchange } from "../../lib/policy/types.ts";
import { COMPRESSION_DEFAULTS } from "../../lib/config/policies/compression.ts";
import type { CompressionConfig, ContentCoding } from "../../lib/config/policies/types.ts";
import type { ProxyReply } from "../../lib/core/message.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { log } from "../../lib/core/logging.ts";
import { samples } from "../routes/_routes.ts";

const CODINGS: ContentCoding[] = ["gzip", "br", "zstd"];
const LEVELS = COMPRESSION_DEFAULTS.levels;

/** Text that compresses like a page: words in varying order. */
function text(bytes: number, seed = 1): Uint8Array {
  const words = ["proxy", "backend", "route", "pool", "header", "stream", "chunk", "the", "a"];
  let s = seed;
  let out = "";
  while (out.length < bytes) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += words[s % words.length] + (s % 7 === 0 ? ".\n" : " ");
  }
  return new TextEncoder().encode(out.slice(0, bytes));
}

/** `data` decoded, as a plain Uint8Array (not a Buffer, which deepEqual tells apart). */
function decompressSync(coding: ContentCoding, data: Uint8Array): Uint8Array {
  const out = coding === "gzip"
    ? zlib.gunzipSync(data)
    : coding === "br"
    ? zlib.brotliDecompressSync(data)
    : zlib.zstdDecompressSync(data);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A streaming decoder that reports what it has decoded so far. */
function decoder(coding: ContentCoding) {
  const d = coding === "gzip"
    ? zlib.createGunzip()
    : coding === "br"
    ? zlib.createBrotliDecompress()
    : zlib.createZstdDecompress();
  const parts: Uint8Array[] = [];
  let length = 0;
  d.on("data", (c: Uint8Array) => {
    parts.push(c);
    length += c.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    d.on("end", resolve);
    d.on("error", reject);
  });
  return {
    /** Feeds `data`; resolves once the decoder has processed it. */
    feed: (data: Uint8Array) => new Promise<void>((resolve) => d.write(data, () => resolve())),
    get length() {
      return length;
    },
    async end(): Promise<Uint8Array> {
      d.end();
      await ended;
      return concat(parts);
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return concat(parts);
}

/** A pull source over `chunks` that counts pulls and notices cancellation. */
function source(chunks: Uint8Array[], fail?: Error) {
  let pulls = 0;
  let cancelled: unknown = undefined;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      const next = chunks.shift();
      if (next !== undefined) c.enqueue(next);
      else if (fail) c.error(fail);
      else c.close();
    },
    cancel(reason) {
      cancelled = reason ?? "cancelled";
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    get pulls() {
      return pulls;
    },
    get cancelled() {
      return cancelled;
    },
  };
}

Deno.test("codecs: each coding round-trips whole and chunk by chunk, chunked output close to whole", async () => {
  const body = text(200_000);
  for (const coding of CODINGS) {
    const whole = compressWhole(coding, body, LEVELS);
    assert.deepEqual(decompressSync(coding, whole), body, `${coding} whole`);
    const c = chunkCompressor(coding, LEVELS);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < body.length; i += 16_384) {
      parts.push(...await c.write(body.subarray(i, i + 16_384)));
    }
    parts.push(...await c.end());
    const streamed = concat(parts);
    assert.deepEqual(decompressSync(coding, streamed), body, `${coding} chunked`);
    assert.ok(streamed.length < body.length / 2, `${coding}: ${streamed.length}`);
    // A flush per 16 KiB costs a little, not a lot.
    assert.ok(streamed.length < whole.length * 1.3 + 64, `${coding}: ${streamed.length}`);
  }
});

Deno.test("codecs: every write is flushed, so what came out so far decodes to everything written", async () => {
  const body = text(60_000, 7);
  for (const coding of CODINGS) {
    const c = chunkCompressor(coding, LEVELS);
    const d = decoder(coding);
    let written = 0;
    for (const size of [1, 10, 500, 7000, 20_000]) {
      const piece = body.subarray(written, written + size);
      for (const out of await c.write(piece)) await d.feed(out);
      written += piece.length;
      assert.equal(d.length, written, `${coding} after ${written} bytes`);
    }
    for (const out of await c.end()) await d.feed(out);
    assert.deepEqual(await d.end(), body.subarray(0, written));
  }
});

Deno.test("compressedBody: reads nothing ahead, one source chunk per read, and counts in and out at the end", async () => {
  const chunks = [text(30_000, 1), text(30_000, 2), text(30_000, 3)];
  const expected = concat(chunks);
  const src = source(chunks.slice());
  let counted: [number, number] | undefined;
  const out = compressedBody(src.stream, chunkCompressor("gzip", LEVELS), (i, o) => {
    counted = [i, o];
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(src.pulls, 0, "nothing read before the client asks");
  const reader = out.getReader();
  const first = await reader.read();
  assert.equal(src.pulls, 1);
  const d = decoder("gzip");
  await d.feed(first.value!);
  assert.equal(d.length, 30_000, "the first chunk decodes whole before the second is read");
  assert.equal(counted, undefined);
  const rest: Uint8Array[] = [first.value!];
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    rest.push(next.value);
  }
  const all = concat(rest);
  assert.deepEqual(decompressSync("gzip", all), expected);
  assert.deepEqual(counted, [expected.length, all.length]);
});

Deno.test("compressedBody: the client leaving cancels the source; a failing source fails the stream; each ends once", async () => {
  let ends = 0;
  const src = source([text(10_000), text(10_000), text(10_000)]);
  const out = compressedBody(src.stream, chunkCompressor("br", LEVELS), () => ends++);
  const reader = out.getReader();
  await reader.read();
  await reader.cancel("client left");
  assert.equal(src.cancelled, "client left");
  assert.equal(ends, 1);

  const failing = source([text(10_000)], new Error("backend reset"));
  const out2 = compressedBody(failing.stream, chunkCompressor("zstd", LEVELS), () => ends++);
  await assert.rejects(readAll(out2), /backend reset/);
  assert.equal(ends, 2);
});

Deno.test("compressedBody: cancelled while the source is silent, nothing waits on; a destroyed compressor refuses work", async () => {
  let cancelled: unknown;
  const silent = new ReadableStream<Uint8Array>({
    pull: () => new Promise<void>(() => {}), // a backend that sends nothing more
    cancel(reason) {
      cancelled = reason;
    },
  }, { highWaterMark: 0 });
  let ends = 0;
  const reader = compressedBody(silent, chunkCompressor("gzip", LEVELS), () => ends++).getReader();
  const pending = reader.read();
  await new Promise((r) => setTimeout(r, 10));
  await reader.cancel("client left");
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(cancelled, "client left");
  assert.equal(ends, 1);

  const c = chunkCompressor("br", LEVELS);
  await c.write(text(100));
  c.destroy();
  await assert.rejects(c.write(text(100)), /destroyed/);
  await assert.rejects(c.end(), /destroyed/);
});

// --- the policy's response phase ---------------------------------------------

function exchange(method: string, headers: HeaderPairs): PolicyExchange {
  return fakeExchange({ method, headers, route: "web", pool: "default" });
}

function setup(over: Partial<CompressionConfig> = {}) {
  const metrics = createLbMetrics();
  const runtime = new PolicyRuntime({ metrics, log: log("test") });
  const policy = createCompression({ ...COMPRESSION_DEFAULTS, ...over }, runtime.deps, "web");
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples(metrics.registry.render())
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((n, s) => n + s.value, 0);
  return { policy, runtime, value };
}

const run = (policy: Policy, reply: ProxyReply, x: PolicyExchange) => policy.response!(reply, x);
const field = (r: ProxyReply, name: string) => r.headers.find(([n]) => n === name)?.[1];

Deno.test("policy: a body in hand is compressed at once with the fields fixed; counted in and out", () => {
  const { policy, value } = setup();
  const body = text(20_000);
  const reply: ProxyReply = {
    status: 200,
    headers: [["content-type", "text/html"], ["content-length", "20000"], ["etag", '"1"']],
    body,
  };
  const out = run(policy, reply, exchange("GET", [["accept-encoding", "gzip, br"]]));
  assert.ok(out.body instanceof Uint8Array);
  assert.deepEqual(decompressSync("br", out.body), body);
  assert.equal(field(out, "content-encoding"), "br");
  assert.equal(field(out, "content-length"), undefined, "the front sets the new length");
  assert.equal(field(out, "etag"), 'W/"1"');
  assert.equal(field(out, "vary"), "Accept-Encoding");
  assert.equal(value("lb_compressed_responses_total", { route: "web", encoding: "br" }), 1);
  assert.equal(value("lb_compression_bytes_total", { direction: "in" }), 20_000);
  assert.equal(value("lb_compression_bytes_total", { direction: "out" }), out.body.length);
});

Deno.test("policy: not eligible is the same reply; eligible but not accepted gets Vary; HEAD gets a GET's fields", () => {
  const { policy, value } = setup();
  const html: HeaderPairs = [["content-type", "text/html"], ["content-length", "5000"]];
  const png: ProxyReply = {
    status: 200,
    headers: [["content-type", "image/png"]],
    body: text(5000),
  };
  assert.equal(run(policy, png, exchange("GET", [["accept-encoding", "gzip"]])), png);
  const page: ProxyReply = { status: 200, headers: html, body: text(5000) };
  for (
    const headers of [
      [],
      [["accept-encoding", "identity"]],
      [["accept-encoding", "gzip"], ["cache-control", "no-transform"]],
    ] as HeaderPairs[]
  ) {
    const out = run(policy, page, exchange("GET", headers));
    assert.equal(out.body, page.body, JSON.stringify(headers));
    assert.equal(field(out, "vary"), "Accept-Encoding");
    assert.equal(field(out, "content-length"), "5000");
    assert.equal(field(out, "content-encoding"), undefined);
  }
  const head = run(
    policy,
    { status: 200, headers: html, body: null },
    exchange("HEAD", [["accept-encoding", "zstd"]]),
  );
  assert.equal(head.body, null);
  assert.equal(field(head, "content-encoding"), "zstd");
  assert.equal(field(head, "content-length"), undefined);
  assert.equal(value("lb_compressed_responses_total"), 0, "HEAD compresses nothing");
});

Deno.test("policy: a stream is compressed as read and goes without a length; max-streams bounds streams at once", async () => {
  const { policy, value, runtime } = setup({ maxStreams: 1 });
  const big = () => text(100_000);
  const streamed = (bytes: Uint8Array): ProxyReply => ({
    status: 200,
    headers: [["content-type", "application/json"], ["content-length", String(bytes.length)]],
    body: source([bytes.slice(0, 50_000), bytes.slice(50_000)]).stream,
  });
  const x = exchange("GET", [["accept-encoding", "zstd;q=0.5, gzip"]]);
  const a = big();
  const first = run(policy, streamed(a), x);
  assert.equal(field(first, "content-encoding"), "gzip");
  assert.equal(field(first, "content-length"), undefined);
  // The one slot is taken until the first stream ends: the second goes as it is.
  const second = run(policy, streamed(big()), x);
  assert.equal(field(second, "content-encoding"), undefined);
  assert.equal(field(second, "vary"), "Accept-Encoding");
  await (second.body as ReadableStream).cancel();
  assert.equal(value("lb_compression_busy_total", { route: "web" }), 1);
  assert.deepEqual(
    decompressSync("gzip", await readAll(first.body as ReadableStream<Uint8Array>)),
    a,
  );
  // Freed: a stream cancelled half-way frees its slot too.
  const third = run(policy, streamed(big()), x);
  assert.equal(field(third, "content-encoding"), "gzip");
  const reader = (third.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  await reader.cancel();
  const fourth = run(policy, streamed(big()), x);
  assert.equal(field(fourth, "content-encoding"), "gzip");
  await (fourth.body as ReadableStream).cancel();
  assert.equal(value("lb_compressed_responses_total", { encoding: "gzip" }), 3);
  assert.ok(value("lb_compression_bytes_total", { direction: "in" }) >= 100_000);
  await runtime.close();
});

Deno.test("policy: bytes in hand over 64 KiB are streamed in slices, not compressed in one go", async () => {
  const { policy } = setup();
  const body = text(300_000);
  const out = run(
    policy,
    { status: 200, headers: [["content-type", "text/plain"]], body },
    exchange("GET", [["accept-encoding", "br"]]),
  );
  assert.ok(out.body instanceof ReadableStream);
  assert.deepEqual(decompressSync("br", await readAll(out.body)), body);
});
