import assert from "node:assert/strict";
import {
  ascii,
  bodyChunks,
  BufReader,
  fieldPairs,
  type Framing,
  headEnd,
  latin1,
  parseChunkSize,
  parseHead,
  type Source,
} from "../scripts/bench/relay_http.ts";
import { parseAddr, upstreamHead } from "../scripts/bench/relay_pool.ts";

/** A socket stand-in that hands out `text` in pieces of the given sizes (the rest at once). */
function source(text: string, pieces: readonly number[] = []): Source {
  const bytes = ascii(text);
  let at = 0;
  let i = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, pieces[i++] ?? bytes.length - at, bytes.length - at);
      p.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

async function collect(reader: BufReader, framing: Framing, raw: boolean): Promise<string> {
  let out = "";
  for await (const chunk of bodyChunks(reader, framing, raw)) out += latin1(chunk);
  return out;
}

Deno.test("headEnd finds the end of the first CRLFCRLF, or -1", () => {
  const buf = ascii("GET / HTTP/1.1\r\nhost: x\r\n\r\nbody");
  assert.equal(headEnd(buf, 0, buf.length), 27);
  assert.equal(headEnd(buf, 0, 26), -1);
  assert.equal(headEnd(ascii("a\r\n\r\n"), 0, 5), 5);
  assert.equal(headEnd(ascii("\n\r\n\r"), 0, 4), -1);
});

Deno.test("BufReader.readHead: a head split across reads, the body left buffered", async () => {
  const text = "POST /u HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello";
  // Splits fall inside the CRLFCRLF, so the scan must look back across reads.
  const reader = new BufReader(source(text, [10, 27, 1, 1, 1]));
  const n = await reader.readHead();
  assert.equal(latin1(reader.peek(n)), "POST /u HTTP/1.1\r\ncontent-length: 5\r\n\r\n");
  reader.consume(n);
  assert.equal(await collect(reader, { kind: "length", length: 5 }, false), "hello");
  assert.equal(await reader.readHead(), 0);
});

Deno.test("BufReader.readHead: 0 at a clean end, an error inside a head or past the buffer", async () => {
  assert.equal(await new BufReader(source("")).readHead(), 0);
  await assert.rejects(new BufReader(source("GET / HT")).readHead(), /ended inside a head/);
  const long = `GET / HTTP/1.1\r\nx: ${"a".repeat(100)}\r\n\r\n`;
  await assert.rejects(new BufReader(source(long), 64).readHead(), /longer than the 64-byte/);
});

Deno.test("BufReader: a second head after compaction", async () => {
  const one = "GET /a HTTP/1.1\r\nhost: x\r\n\r\n";
  const two = "GET /bb HTTP/1.1\r\nhost: x\r\n\r\n";
  // A 40-byte buffer holds the first head and part of the second; reading on must compact.
  const reader = new BufReader(source(one + two), 40);
  reader.consume(await reader.readHead());
  const n = await reader.readHead();
  assert.equal(latin1(reader.peek(n)), two);
});

Deno.test("parseHead: request framing", () => {
  assert.deepEqual(parseHead("GET / HTTP/1.1\r\nhost: x\r\n\r\n", "request"), {
    startLine: "GET / HTTP/1.1",
    status: 0,
    framing: { kind: "length", length: 0 },
    close: false,
  });
  const post = parseHead("POST /u HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n", "request");
  assert.deepEqual(post.framing, { kind: "length", length: 1048576 });
  const chunked = parseHead(
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "request",
  );
  assert.deepEqual(chunked.framing, { kind: "chunked" });
  assert.equal(parseHead("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", "request").close, true);
  assert.equal(parseHead("GET / HTTP/1.0\r\n\r\n", "request").close, true);
  assert.equal(
    parseHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "request").close,
    false,
  );
});

Deno.test("parseHead: response framing (RFC 9112 §6.3)", () => {
  const ok = parseHead("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n", "response");
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.framing, { kind: "length", length: 100 });
  // Transfer-Encoding wins over Content-Length.
  const both = parseHead(
    "HTTP/1.1 200 OK\r\ncontent-length: 9\r\ntransfer-encoding: chunked\r\n\r\n",
    "response",
  );
  assert.deepEqual(both.framing, { kind: "chunked" });
  assert.deepEqual(parseHead("HTTP/1.1 200 OK\r\n\r\n", "response").framing, { kind: "close" });
  for (const status of ["204 No Content", "304 Not Modified", "101 Switching Protocols"]) {
    const h = parseHead(`HTTP/1.1 ${status}\r\ncontent-length: 5\r\n\r\n`, "response");
    assert.deepEqual(h.framing, { kind: "length", length: 0 }, status);
  }
  const toHead = parseHead("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "response", {
    toHead: true,
  });
  assert.deepEqual(toHead.framing, { kind: "length", length: 0 });
  assert.equal(parseHead("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n", "response").close, true);
});

Deno.test("parseHead: bad Content-Length and status lines are rejected", () => {
  assert.throws(
    () => parseHead("POST / HTTP/1.1\r\ncontent-length: 1e3\r\n\r\n", "request"),
    /bad content-length "1e3"/,
  );
  assert.throws(
    () =>
      parseHead("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", "response"),
    /bad content-length "2"/,
  );
  assert.throws(() => parseHead("HTTP/1.1 abc\r\n\r\n", "response"), /bad status line/);
});

Deno.test("fieldPairs lists every field line in order", () => {
  assert.deepEqual(
    fieldPairs("HTTP/1.1 200 OK\r\nServer: nginx\r\nX-A:  1 \r\nx-a: 2\r\n\r\n"),
    [["Server", "nginx"], ["X-A", "1"], ["x-a", "2"]],
  );
});

Deno.test("parseChunkSize: hex, extensions, and garbage", () => {
  assert.equal(parseChunkSize("1a3f"), 0x1a3f);
  assert.equal(parseChunkSize("0"), 0);
  assert.equal(parseChunkSize("400;name=value"), 0x400);
  assert.equal(parseChunkSize("FF "), 255);
  assert.throws(() => parseChunkSize(""), /bad chunk size line ""/);
  assert.throws(() => parseChunkSize("0x10"), /bad chunk size/);
  assert.throws(() => parseChunkSize("1234567890abc"), /bad chunk size/);
});

const CHUNKED = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: t\r\n\r\n";

Deno.test("bodyChunks: chunked, decoded and raw, read one byte at a time", async () => {
  const ones = Array.from({ length: CHUNKED.length }, () => 1);
  const decoded = await collect(new BufReader(source(CHUNKED, ones)), { kind: "chunked" }, false);
  assert.equal(decoded, "hello world");
  const raw = await collect(
    new BufReader(source(CHUNKED + "NEXT", ones)),
    { kind: "chunked" },
    true,
  );
  assert.equal(raw, CHUNKED);
});

Deno.test("bodyChunks: length and close framing; early ends are errors", async () => {
  const reader = new BufReader(source("abcdefgh"));
  assert.equal(await collect(reader, { kind: "length", length: 3 }, false), "abc");
  assert.equal(await collect(reader, { kind: "close" }, false), "defgh");
  await assert.rejects(
    collect(new BufReader(source("abc")), { kind: "length", length: 5 }, false),
    /ended 2 bytes before the end/,
  );
  await assert.rejects(
    collect(new BufReader(source("5\r\nhel")), { kind: "chunked" }, false),
    /ended 2 bytes before the end/,
  );
  await assert.rejects(
    collect(new BufReader(source("3\r\nabcX\r\n0\r\n\r\n")), { kind: "chunked" }, false),
    /not followed by CRLF/,
  );
});

Deno.test("upstreamHead: fixed host, Content-Length only with a body", () => {
  assert.equal(upstreamHead("GET", "/1m?x=1", 0), "GET /1m?x=1 HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.equal(
    upstreamHead("POST", "/upload", 1048576),
    "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 1048576\r\n\r\n",
  );
  // An empty POST still says so, or the backend would wait for a length.
  assert.equal(
    upstreamHead("POST", "/", 0),
    "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
  );
});

Deno.test("parseAddr takes host:port or http://host:port", () => {
  assert.deepEqual(parseAddr("127.0.0.1:8001"), { hostname: "127.0.0.1", port: 8001 });
  assert.deepEqual(parseAddr("http://127.0.0.1:8002/"), { hostname: "127.0.0.1", port: 8002 });
  assert.throws(() => parseAddr("https://h:1"), /is not host:port/);
  assert.throws(() => parseAddr("h"), /is not host:port/);
});
