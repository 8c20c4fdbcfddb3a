/**
 * Compression through a real lb process (main.ts on loopback port 0) in
 * front of a real backend in this process: pages and JSON come back
 * compressed with the coding negotiated and decode to the exact bytes sent,
 * with the fields fixed; already-encoded bodies, ranges, SSE, small bodies
 * and clients that don't ask pass as they are; a slow stream's first bytes
 * decode before the backend sends more; 50 MiB streams pass with the
 * lb's memory bounded, and not growing with the bytes that pass; a client
 * leaving mid-stream lets the backend go; the `Deno.serve` front sends the
 * same bytes; the metrics and `/status` show it, and a bad value stops the
 * lb with exit 2 naming the key.
 */

import assert from "node:assert/strict";
import { checkConfig, withConfig } from "./_config.ts";
import zlib from "node:zlib";
import { type LbProcess, rssBytes, startLb, waitFor } from "../_lb.ts";
import { concat, httpServer, rawRequest, type RawResponse, writeAll } from "../_http.ts";
import { metric } from "../routes/_routes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Text that compresses like a page: words in varying order. */
function text(bytes: number, seed = 1): Uint8Array<ArrayBuffer> {
  const words = ["proxy", "backend", "route", "pool", "header", "stream", "chunk", "the", "a"];
  let s = seed;
  let out = "";
  while (out.length < bytes) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += words[s % words.length] + (s % 7 === 0 ? ".\n" : " ");
  }
  return encoder.encode(out.slice(0, bytes));
}

const PAGE = text(30_000, 1);
const JSON_BODY = encoder.encode(
  JSON.stringify(
    Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `user-${i}`, ok: i % 3 === 0 })),
  ),
);
const GZIPPED = new Uint8Array(zlib.gzipSync(text(20_000, 2)));
const BIG_BLOCK = text(64 * 1024, 3);
const BIG_BLOCKS = 800; // 50 MiB

/** Block `i` of the big body: the shared block with its number in front, so no two are alike. */
function bigBlock(i: number): Uint8Array {
  const block = BIG_BLOCK.slice();
  block.set(encoder.encode(String(i).padStart(10, "0")));
  return block;
}

/**
 * Streams `chunks` one per pull, waiting for `gate` (if any) before the
 * chunk at `gate.at`; `onCancel` hears the reader (the lb) letting go.
 */
function streamOf(
  chunks: () => Iterator<Uint8Array>,
  gate?: { at: number; open: Promise<void> },
  onCancel?: () => void,
) {
  const it = chunks();
  let n = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (gate && n === gate.at) await gate.open;
      const next = it.next();
      n++;
      if (next.done) c.close();
      else c.enqueue(next.value);
    },
    cancel: onCancel,
  }, { highWaterMark: 0 });
}

interface Backend extends AsyncDisposable {
  readonly origin: string;
  /** Lets the slow stream send its second half. */
  release(): void;
  /** Lets the event stream send its second event. */
  nextEvent(): void;
  /** How many `/big` bodies the lb let go of before their end. */
  readonly bigCancelled: number;
}

/** A promise the test opens, or that opens by itself after `ms` (so a failing test can't hang). */
function gate(ms: number) {
  let open!: () => void;
  const promise = new Promise<void>((r) => open = r);
  const timer = setTimeout(open, ms);
  return {
    promise,
    open() {
      clearTimeout(timer);
      open();
    },
  };
}

function backend(): Backend {
  let bigCancelled = 0;
  const slow = gate(5000);
  const event = gate(5000);
  const server = httpServer((req) => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/page":
        return new Response(PAGE, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            etag: '"page-1"',
            "accept-ranges": "bytes",
            vary: "Origin",
          },
        });
      case "/json":
        // Streamed, no length: the lb compresses it chunk by chunk.
        return new Response(
          streamOf(function* () {
            for (let i = 0; i < JSON_BODY.length; i += 16_384) {
              yield JSON_BODY.slice(i, i + 16_384);
            }
          }),
          { headers: { "content-type": "application/json" } },
        );
      case "/gzipped":
        return new Response(GZIPPED, {
          headers: { "content-type": "text/plain", "content-encoding": "gzip" },
        });
      case "/small":
        return new Response(text(100), { headers: { "content-type": "text/plain" } });
      case "/image":
        return new Response(text(5000), { headers: { "content-type": "image/png" } });
      case "/range": {
        const range = req.headers.get("range");
        if (range === null) return new Response(PAGE, { headers: { "content-type": "text/html" } });
        return new Response(PAGE.slice(0, 5000), {
          status: 206,
          headers: { "content-type": "text/html", "content-range": `bytes 0-4999/${PAGE.length}` },
        });
      }
      case "/no-transform":
        return new Response(PAGE, {
          headers: { "content-type": "text/html", "cache-control": "public, no-transform" },
        });
      case "/events":
        return new Response(
          streamOf(function* () {
            yield encoder.encode("data: one\n\n");
            yield encoder.encode("data: two\n\n");
          }, { at: 1, open: event.promise }),
          { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
        );
      case "/slow":
        return new Response(
          streamOf(function* () {
            yield text(3000, 4);
            yield text(3000, 5);
          }, { at: 1, open: slow.promise }),
          { headers: { "content-type": "text/plain" } },
        );
      case "/big":
        return new Response(
          streamOf(
            function* () {
              for (let i = 0; i < BIG_BLOCKS; i++) yield bigBlock(i);
            },
            undefined,
            () => bigCancelled++,
          ),
          {
            headers: {
              "content-type": "text/plain",
              "content-length": String(BIG_BLOCKS * BIG_BLOCK.length),
            },
          },
        );
      default:
        return new Response("ok\n");
    }
  });
  return {
    origin: server.origin,
    get bigCancelled() {
      return bigCancelled;
    },
    release: slow.open,
    nextEvent: event.open,
    [Symbol.asyncDispose]: async () => {
      slow.open();
      event.open();
      await server[Symbol.asyncDispose]();
    },
  };
}

function config(be: Backend, compression: unknown = { "min-size": 1024 }) {
  return {
    backends: [be.origin],
    routes: [{ name: "web", match: {}, pool: "default", policies: { compression } }],
  };
}

function get(lb: LbProcess, path: string, extra: string[] = [], method = "GET") {
  return rawRequest(lb.port, [`${method} ${path} HTTP/1.1`, "Host: site.test", ...extra]);
}

function decode(coding: string | undefined, body: Uint8Array): Uint8Array {
  const out = coding === "gzip"
    ? zlib.gunzipSync(body)
    : coding === "br"
    ? zlib.brotliDecompressSync(body)
    : coding === "zstd"
    ? zlib.zstdDecompressSync(body)
    : body;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function assertSame(actual: Uint8Array, expected: Uint8Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(actual.every((b, i) => b === expected[i]), `${what}: bytes differ`);
}

Deno.test("compression through lb: negotiated coding, exact bytes back, fields fixed; /status and metrics", async () => {
  await using be = backend();
  await withConfig(config(be), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const browser = "Accept-Encoding: gzip, deflate, br, zstd";
    // A page in hand (under 64 KiB with a length): compressed at once, a new length.
    const page = await get(lb, "/page", [browser]);
    assert.equal(page.status, 200);
    assert.equal(page.header("content-encoding"), "zstd");
    assert.equal(page.header("vary"), "Origin, Accept-Encoding");
    assert.equal(page.header("etag"), 'W/"page-1"');
    assert.equal(page.header("accept-ranges"), undefined);
    assert.equal(page.header("content-length"), String(page.body.length));
    assert.ok(page.body.length < PAGE.length / 2);
    assertSame(decode("zstd", page.body), PAGE, "page zstd");
    // The client's weights decide; the server's order breaks ties.
    for (
      const [accept, coding] of [
        ["gzip", "gzip"],
        ["br", "br"],
        ["zstd, gzip", "zstd"],
        ["br;q=0.5, gzip;q=0.9", "gzip"],
        ["*", "zstd"],
        ["x-gzip", "gzip"],
      ]
    ) {
      const res = await get(lb, "/page", [`Accept-Encoding: ${accept}`]);
      assert.equal(res.header("content-encoding"), coding, accept);
      assertSame(decode(coding, res.body), PAGE, accept);
    }
    // A stream without a length: compressed as it comes, sent chunked.
    const json = await get(lb, "/json", ["Accept-Encoding: gzip"]);
    assert.equal(json.header("content-encoding"), "gzip");
    assert.equal(json.chunked, true);
    assert.equal(json.header("content-length"), undefined);
    assertSame(decode("gzip", json.body), JSON_BODY, "json gzip");
    const jsonZstd = await get(lb, "/json", ["Accept-Encoding: zstd"]);
    assertSame(decode("zstd", jsonZstd.body), JSON_BODY, "json zstd");
    // HEAD: a GET's fields, no body.
    const head = await get(lb, "/page", ["Accept-Encoding: gzip"], "HEAD");
    assert.equal(head.header("content-encoding"), "gzip");
    assert.equal(head.header("content-length"), undefined);
    assert.equal(head.body.length, 0);

    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.equal(
      metric(text, "lb_compressed_responses_total", { route: "web", encoding: "br" }),
      1,
    );
    assert.equal(
      metric(text, "lb_compressed_responses_total", { route: "web", encoding: "gzip" }),
      4,
    );
    assert.equal(
      metric(text, "lb_compressed_responses_total", { route: "web", encoding: "zstd" }),
      4,
    );
    const bytesIn = metric(text, "lb_compression_bytes_total", { direction: "in" });
    const bytesOut = metric(text, "lb_compression_bytes_total", { direction: "out" });
    assert.equal(bytesIn, 7 * PAGE.length + 2 * JSON_BODY.length);
    assert.ok(bytesOut > 0 && bytesOut < bytesIn / 2, `${bytesOut} of ${bytesIn}`);
    const status = await (await fetch(`${lb.adminUrl}/status`)).json();
    const web = status.routes.find((r: { name: string }) => r.name === "web");
    assert.deepEqual(web.policies.compression.encodings, ["zstd", "br", "gzip"]);
    assert.equal(web.policies.compression.minBytes, 1024);
  });
});

Deno.test("compression through lb: encoded bodies, ranges, no-transform, SSE, small bodies and clients that don't ask pass as they are", async () => {
  await using be = backend();
  await withConfig(config(be), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const gz = "Accept-Encoding: gzip, br";
    const gzipped = await get(lb, "/gzipped", [gz]);
    assert.equal(gzipped.header("content-encoding"), "gzip");
    assertSame(gzipped.body, GZIPPED, "already gzipped: byte-identical");
    const ranged = await get(lb, "/range", [gz, "Range: bytes=0-4999"]);
    assert.equal(ranged.status, 206);
    assert.equal(ranged.header("content-encoding"), undefined);
    assertSame(ranged.body, PAGE.slice(0, 5000), "range");
    // The same resource without Range is a whole representation: compressed.
    const whole = await get(lb, "/range", [gz]);
    assert.equal(whole.header("content-encoding"), "br");
    const kept = await get(lb, "/no-transform", [gz]);
    assert.equal(kept.header("content-encoding"), undefined);
    assertSame(kept.body, PAGE, "no-transform");
    const asked = await get(lb, "/page", [gz, "Cache-Control: no-transform"]);
    assert.equal(asked.header("content-encoding"), undefined);
    assert.equal(asked.header("vary"), "Origin, Accept-Encoding");
    const small = await get(lb, "/small", [gz]);
    assert.equal(small.header("content-encoding"), undefined);
    assert.equal(small.header("vary"), undefined, "never compressed, so it doesn't vary");
    const image = await get(lb, "/image", [gz]);
    assert.equal(image.header("content-encoding"), undefined);
    assert.equal(image.header("vary"), undefined);
    // A client that doesn't ask: as it is, and Vary says another could get it compressed.
    for (const lines of [[], ["Accept-Encoding: identity"], ["Accept-Encoding: gzip;q=0"]]) {
      const plain = await get(lb, "/page", lines);
      assert.equal(plain.header("content-encoding"), undefined, JSON.stringify(lines));
      assert.equal(plain.header("vary"), "Origin, Accept-Encoding");
      assert.equal(plain.header("etag"), '"page-1"');
      assertSame(plain.body, PAGE, "identity");
    }
    // SSE: never compressed, and each event arrives as it is sent.
    const events = await streamGet(lb.port, "/events", [gz]);
    assert.equal(events.header("content-encoding"), undefined);
    const reader = events.body.getReader();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "data: one\n\n");
    be.nextEvent();
    let rest = "";
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      rest += decoder.decode(next.value);
    }
    assert.equal(rest, "data: two\n\n");
  });
});

Deno.test("compression through lb: a slow stream's first chunk decodes before the backend sends the next", async () => {
  await using be = backend();
  await withConfig(config(be), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const res = await streamGet(lb.port, "/slow", ["Accept-Encoding: gzip"]);
    assert.equal(res.header("content-encoding"), "gzip");
    const d = zlib.createGunzip();
    const parts: Uint8Array[] = [];
    d.on("data", (c: Uint8Array) => parts.push(c));
    const decoded = () => parts.reduce((n, p) => n + p.length, 0);
    const reader = res.body.getReader();
    const started = performance.now();
    // The backend holds its second chunk back until told: only a flushed first one can decode.
    while (decoded() < 3000) {
      const next = await reader.read();
      assert.ok(!next.done, "ended before the first chunk decoded");
      await new Promise<void>((r) => d.write(next.value, () => r()));
    }
    assert.equal(decoded(), 3000);
    assert.ok(performance.now() - started < 4000, "the first chunk came without the second");
    be.release();
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      await new Promise<void>((r) => d.write(next.value, () => r()));
    }
    await new Promise<void>((r) => d.end(() => r()));
    assertSame(concat(parts), concat([text(3000, 4), text(3000, 5)]), "slow");
  });
});

Deno.test("compression through lb: 50 MiB streams pass whole with the lb's memory bounded", async () => {
  await using be = backend();
  await withConfig(config(be, { encodings: ["gzip"], level: { gzip: 1 } }), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const body = BIG_BLOCKS * BIG_BLOCK.length;
    // The first stream is checked byte for byte; it also grows the lb once (its heap and
    // allocator reach their working size: 20-26 MiB here, less than the body).
    const first = await peakGrowth(lb, async () => {
      let offset = 0;
      let expected = bigBlock(0);
      const wire = await bigGzip(lb, (chunk) => {
        for (let i = 0; i < chunk.length; i++, offset++) {
          const at = offset % BIG_BLOCK.length;
          if (at === 0) expected = bigBlock(offset / BIG_BLOCK.length);
          if (chunk[i] !== expected[at]) assert.fail(`byte ${offset} differs`);
        }
      });
      assert.equal(offset, body);
      assert.ok(wire < body / 2, `${wire} bytes on the wire for ${body}`);
    });
    // Holding the body would take 50 MiB and more.
    assert.ok(first < 40, `lb RSS grew ${first.toFixed(1)} MiB for the first 50 MiB body`);
    // The next stream of the same size costs (next to) nothing more: memory doesn't follow
    // the bytes that pass.
    const second = await peakGrowth(lb, async () => {
      let decoded = 0;
      await bigGzip(lb, (chunk) => decoded += chunk.length);
      assert.equal(decoded, body);
    });
    assert.ok(second < 16, `lb RSS grew ${second.toFixed(1)} MiB more for the second body`);
    console.log(
      `lb RSS: +${first.toFixed(1)} MiB for the first 50 MiB, +${
        second.toFixed(1)
      } MiB for the second`,
    );
  });
});

/** The lb's RSS peak while `fn` runs, above what it was before, in MiB (sampled every 25 ms). */
async function peakGrowth(lb: LbProcess, fn: () => Promise<void>): Promise<number> {
  const before = await rssBytes(lb.proc.pid);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssBytes(lb.proc.pid));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    await fn();
  } finally {
    sampling = false;
    await sampler;
  }
  return (Math.max(peak, await rssBytes(lb.proc.pid)) - before) / (1024 * 1024);
}

/** GETs `/big` gzip-compressed, decoding it as it arrives; resolves with the bytes on the wire. */
async function bigGzip(lb: LbProcess, each: (chunk: Uint8Array) => void): Promise<number> {
  const res = await streamGet(lb.port, "/big", ["Accept-Encoding: gzip"]);
  assert.equal(res.header("content-encoding"), "gzip");
  assert.equal(res.header("content-length"), undefined);
  let wire = 0;
  const counted = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        wire += chunk.length;
        c.enqueue(chunk);
      },
    }),
  );
  const gunzip = new DecompressionStream("gzip") as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  for await (const chunk of counted.pipeThrough(gunzip)) each(chunk);
  return wire;
}

Deno.test("compression through lb: a client leaving mid-stream lets the backend go, and the lb carries on", async () => {
  await using be = backend();
  await withConfig(config(be), async (path) => {
    await using lb = await startLb([], ["--config", path]);
    const res = await streamGet(lb.port, "/big", ["Accept-Encoding: br"]);
    assert.equal(res.header("content-encoding"), "br");
    const reader = res.body.getReader();
    for (let i = 0; i < 3; i++) assert.ok(!(await reader.read()).done);
    await reader.cancel(); // closes the connection
    await waitFor(() => be.bigCancelled === 1, 5000, "the backend's body cancelled");
    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    const bytesIn = metric(text, "lb_compression_bytes_total", { direction: "in" });
    assert.ok(bytesIn > 0 && bytesIn < BIG_BLOCKS * BIG_BLOCK.length, `${bytesIn} bytes in`);
    const page = await get(lb, "/page", ["Accept-Encoding: br"]);
    assertSame(decode("br", page.body), PAGE, "after");
  });
});

Deno.test("compression through lb: the Deno.serve front sends the same bytes, a length in hand and a stream chunked", async () => {
  await using be = backend();
  await withConfig(config(be), async (path) => {
    await using lb = await startLb([], ["--config", path, "--front", "deno-serve"]);
    const page = await get(lb, "/page", ["Accept-Encoding: gzip"]);
    assert.equal(page.header("content-encoding"), "gzip");
    assert.equal(page.header("content-length"), String(page.body.length));
    assertSame(decode("gzip", page.body), PAGE, "deno-serve page");
    const json = await get(lb, "/json", ["Accept-Encoding: br"]);
    assert.equal(json.header("content-encoding"), "br");
    assert.equal(json.chunked, true);
    assertSame(decode("br", json.body), JSON_BODY, "deno-serve json");
  });
});

Deno.test("compression through lb: a bad value stops the lb with exit 2 naming the key", async () => {
  const bad = {
    backends: ["http://127.0.0.1:1"],
    routes: [{
      match: {},
      pool: "default",
      policies: { compression: { encodings: ["gzip", "deflate"] } },
    }],
  };
  await withConfig(bad, async (path) => {
    const out = await checkConfig(path);
    assert.equal(out.code, 2);
    assert.match(
      out.stderr,
      /lb\.json: routes\[0\]\.policies\.compression\.encodings\[1\]: "deflate" is not a coding this lb applies/,
    );
  });
});

// --- a streaming raw client ---------------------------------------------------

interface StreamedResponse {
  readonly status: number;
  header(name: string): string | undefined;
  /** The body as it arrives, de-chunked; the connection closes at its end. */
  readonly body: ReadableStream<Uint8Array>;
}

/** A GET whose body is read as it arrives (rawRequest reads to the end first). */
async function streamGet(port: number, path: string, lines: string[]): Promise<StreamedResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [`GET ${path} HTTP/1.1`, "Host: site.test", ...lines, "Connection: close", "", ""];
  await writeAll(conn, encoder.encode(head.join("\r\n")));
  const reader = conn.readable.getReader();
  let buf: Uint8Array = new Uint8Array(0);
  const more = async (): Promise<boolean> => {
    const next = await reader.read();
    if (next.done) return false;
    buf = concat([buf, next.value]);
    return true;
  };
  let end: number;
  while ((end = indexOf(buf, "\r\n\r\n")) < 0) {
    if (!(await more())) throw new Error("no response head");
  }
  const parsed: RawResponse["headers"] = decoder.decode(buf.subarray(0, end)).split("\r\n")
    .slice(1).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    });
  const status = Number(decoder.decode(buf.subarray(9, 12)));
  buf = buf.subarray(end + 4);
  const header = (name: string) => parsed.find(([n]) => n === name)?.[1];
  const chunked = /chunked/i.test(header("transfer-encoding") ?? "");
  const close = () => {
    reader.cancel().catch(() => {});
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!chunked) {
        if (buf.length === 0 && !(await more())) {
          c.close();
          return close();
        }
        c.enqueue(buf);
        buf = new Uint8Array(0);
        return;
      }
      let nl: number;
      while ((nl = indexOf(buf, "\r\n")) < 0) {
        if (!(await more())) throw new Error("truncated chunk size");
      }
      const size = parseInt(decoder.decode(buf.subarray(0, nl)), 16);
      while (buf.length < nl + 2 + size + 2) {
        if (!(await more())) throw new Error("truncated chunk");
      }
      const data = buf.slice(nl + 2, nl + 2 + size);
      buf = buf.subarray(nl + 2 + size + 2);
      if (size === 0) {
        c.close();
        return close();
      }
      c.enqueue(data);
    },
    cancel: close,
  }, { highWaterMark: 0 });
  return { status, header, body };
}

function indexOf(hay: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
