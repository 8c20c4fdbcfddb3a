/**
 * H1Transport on real loopback sockets against servers that write exact
 * bytes: connection reuse and idle handling, stale-connection replay, error
 * kinds, aborts, body framing both ways, Expect: 100-continue, interim and
 * 101 responses, and which connections go back to the pool.
 */

import assert from "node:assert/strict";
import { ClientAbortError, UpstreamError } from "../lib/core/transport.ts";
import {
  answerEach,
  bodyBytes,
  bodyText,
  CHUNKED_OFFSET_BUG,
  deadPort,
  delay,
  h1,
  latin1Bytes,
  latin1Text,
  type Peer,
  streamOf,
  targetOf,
  upstreamRequest,
  wireServer,
  within,
} from "./_h1.ts";

const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
/** Generous guard against hangs; never reached by a passing run. */
const GUARD = 5000;

/** Asserts `promise` rejects with an UpstreamError of `kind`; returns it. */
async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<UpstreamError> {
  const err = await within(promise.then(() => undefined, (e) => e), GUARD, kind);
  assert.ok(err instanceof UpstreamError, `expected UpstreamError ${kind}, got ${err}`);
  assert.equal(err.kind, kind, err.message);
  return err;
}

Deno.test("keep-alive: sequential requests of every body kind share one connection", async () => {
  const big = "x".repeat(100_000); // over 64 KiB: streamed, not read whole
  await using server = wireServer(answerEach((req) => {
    const path = req.head.split(" ")[1];
    if (path === "/big") return `HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`;
    if (path === "/head") return "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n";
    if (path === "/304") return "HTTP/1.1 304 Not Modified\r\ncontent-length: 100\r\n\r\n";
    if (path === "/204") return "HTTP/1.1 204 No Content\r\n\r\n";
    if (path === "/http10") {
      return "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok";
    }
    return OK;
  }));
  await using t = h1();
  const get = (path: string, method = "GET") =>
    t.request(server.target, upstreamRequest({ method, path }));
  const first = await get("/");
  assert.equal(first.status, 200);
  assert.deepEqual(first.headers, [["content-length", "2"]]);
  assert.equal(await bodyText(first.body), "ok");
  const large = await get("/big");
  assert.ok(large.body instanceof ReadableStream);
  assert.equal(await bodyText(large.body), big);
  const head = await get("/head", "HEAD");
  assert.equal(head.body, null, "HEAD: no body, whatever Content-Length says");
  const notModified = await get("/304");
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body, null);
  const noContent = await get("/204");
  assert.equal(noContent.body, null);
  const old = await get("/http10");
  assert.equal(await bodyText(old.body), "ok");
  const post = await t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "4"]],
      body: streamOf("data"),
    }),
  );
  assert.equal(await bodyText(post.body), "ok");
  assert.equal(await bodyText((await get("/")).body), "ok");
  assert.equal(server.peers.length, 1, "one TCP connection for all eight requests");
  assert.equal(server.peers[0].requests.length, 8);
});

Deno.test("keep-alive: concurrent requests get separate connections, then reuse them", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using server = wireServer(async (peer) => {
    for (let req = await peer.readRequest(); req; req = await peer.readRequest()) {
      if (peer.requests.length === 1) await gate; // hold the first answer on each
      await peer.write(OK);
    }
  });
  await using t = h1();
  const a = t.request(server.target, upstreamRequest());
  const b = t.request(server.target, upstreamRequest());
  while (server.peers.length < 2 || server.peers.some((p) => p.requests.length === 0)) {
    await within(delay(5), GUARD, "both requests to arrive");
  }
  release();
  for (const res of await Promise.all([a, b])) assert.equal(await bodyText(res.body), "ok");
  for (let i = 0; i < 4; i++) {
    assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  }
  assert.equal(server.peers.length, 2);
});

Deno.test("idle timeout: a pooled connection is closed after idleTimeoutMs", async () => {
  await using server = wireServer(answerEach(OK));
  await using t = h1({ idleTimeoutMs: 100 });
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  // The server sees EOF although the client sends nothing more: the sweep closed it.
  await within(server.done(0), GUARD, "the idle connection to be closed");
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  assert.equal(server.peers.length, 2, "the second request dialled anew");
});

Deno.test("a backend closing an idle pooled connection is noticed before reuse", async () => {
  // The first connection answers once and closes; later ones keep answering.
  await using server = wireServer(async (peer) => {
    if (peer.index === 0) {
      await peer.readRequest();
      await peer.write(OK);
      return;
    }
    await answerEach(OK)(peer);
  });
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  await within(server.done(0), GUARD, "the backend to close");
  // Loopback delivers the FIN at once; one turn of the event loop lets the
  // pool's pending read see it.
  await delay(100);
  // A POST is never replayed, so it succeeding shows the dead connection was
  // dropped from the pool instead of being written to.
  const post = await t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "4"]],
      body: streamOf("data"),
    }),
  );
  assert.equal(await bodyText(post.body), "ok");
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  assert.equal(server.peers.length, 2);
  assert.equal(server.peers[0].requests.length, 1);
  assert.equal(server.peers[1].requests.length, 2);
});

/** Connection 0 answers its first request, then reads the next and closes without answering. */
function closesOnSecondRequest(later: (peer: Peer) => Promise<void>) {
  return wireServer(async (peer) => {
    if (peer.index > 0) return later(peer);
    await peer.readRequest();
    await peer.write("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\none");
    await peer.readRequest();
  });
}

Deno.test("stale connection race: a GET is replayed once on a fresh connection", async () => {
  await using server = closesOnSecondRequest(
    answerEach("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\ntwo"),
  );
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "one");
  const res = await t.request(server.target, upstreamRequest({ path: "/again" }));
  assert.equal(await bodyText(res.body), "two");
  assert.equal(server.peers.length, 2);
  assert.deepEqual(server.peers.map((p) => p.requests.length), [2, 1]);
  assert.match(server.peers[1].requests[0].head, /^GET \/again HTTP\/1\.1\r\n/);
});

Deno.test("stale connection race: replayed only once, then a reset", async () => {
  // Every later connection also closes without answering.
  await using server = closesOnSecondRequest(async (peer) => {
    await peer.readRequest();
  });
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "one");
  const err = await rejectsWith(t.request(server.target, upstreamRequest()), "reset");
  assert.equal(err.mayHaveReached, true);
  assert.equal(server.peers.length, 2, "one replay, not a loop");
});

Deno.test("stale connection race: a POST with a body is not replayed", async () => {
  await using server = closesOnSecondRequest(answerEach(OK));
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "one");
  const post = t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "4"]],
      body: streamOf("data"),
    }),
  );
  const err = await rejectsWith(post, "reset");
  assert.equal(err.mayHaveReached, true);
  assert.equal(server.peers.length, 1, "never sent twice");
  assert.equal(latin1Text(server.peers[0].requests[1].body), "data");
});

Deno.test("connect refused: connect_refused, never reached the backend", async () => {
  await using t = h1();
  const err = await rejectsWith(
    t.request(targetOf(deadPort()), upstreamRequest()),
    "connect_refused",
  );
  assert.equal(err.mayHaveReached, false);
});

Deno.test("response timeout: response_timeout, and the connection is closed", async () => {
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    await peer.eof(); // never answers
  });
  await using t = h1({ responseTimeoutMs: 200 });
  const err = await rejectsWith(t.request(server.target, upstreamRequest()), "response_timeout");
  assert.equal(err.mayHaveReached, true);
  await within(server.done(0), GUARD, "the server to see EOF");
});

Deno.test("client abort while waiting for headers: ClientAbortError, upstream socket closed", async () => {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((r) => arrived = r);
  let sawEof = false;
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    arrived();
    sawEof = await peer.eof();
  });
  await using t = h1();
  const abort = new AbortController();
  const pending = t.request(server.target, upstreamRequest({ signal: abort.signal }));
  const settled = pending.then(() => "resolved", (e) => e);
  await within(requestArrived, GUARD, "the request to arrive");
  abort.abort();
  assert.ok((await within(settled, GUARD, "the abort")) instanceof ClientAbortError);
  await within(server.done(0), GUARD, "the server to see EOF");
  assert.equal(sawEof, true);
});

Deno.test("client abort before sending: ClientAbortError without connecting", async () => {
  await using server = wireServer(answerEach(OK));
  await using t = h1();
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(
    t.request(server.target, upstreamRequest({ signal: abort.signal })),
    ClientAbortError,
  );
  await delay(20);
  assert.equal(server.peers.length, 0);
});

Deno.test("cancelling a response body mid-stream closes the socket instead of pooling it", async () => {
  await using server = wireServer(async (peer) => {
    if (peer.index > 0) return answerEach(OK)(peer);
    await peer.readRequest();
    await peer.write("HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n");
    await peer.write(new Uint8Array(100_000));
    await peer.eof();
  });
  await using t = h1();
  const res = await t.request(server.target, upstreamRequest());
  assert.ok(res.body instanceof ReadableStream);
  const reader = res.body.getReader();
  const first = await reader.read();
  assert.ok(!first.done && first.value.length > 0);
  await reader.cancel();
  await within(server.done(0), GUARD, "the server to see the socket closed");
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  assert.equal(server.peers.length, 2);
});

Deno.test("request bodies: Content-Length goes out as is, no Content-Length goes chunked", async () => {
  await using server = wireServer(answerEach(OK));
  await using t = h1();
  const withLength = await t.request(
    server.target,
    upstreamRequest({
      method: "PUT",
      path: "/a?b=1",
      headers: [["host", "h"], ["content-length", "5"], ["x-two", "1"], ["x-two", "2"]],
      body: streamOf("hel", "lo"),
    }),
  );
  assert.equal(await bodyText(withLength.body), "ok");
  const chunked = await t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "h"]],
      body: streamOf("hel", "", "lo", new Uint8Array([0, 0xff])),
    }),
  );
  assert.equal(await bodyText(chunked.body), "ok");
  const [first, second] = server.peers[0].requests;
  assert.equal(
    latin1Text(first.raw),
    "PUT /a?b=1 HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nx-two: 1\r\nx-two: 2\r\n\r\nhello",
  );
  // The empty piece must not become a premature last chunk.
  assert.equal(
    latin1Text(second.raw),
    "POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n" +
      "3\r\nhel\r\n2\r\nlo\r\n2\r\n\x00\xff\r\n0\r\n\r\n",
  );
  assert.equal(server.peers.length, 1);
});

Deno.test("Expect: 100-continue: the body waits for 100 Continue, then goes", async () => {
  let quietBefore100 = false;
  await using server = wireServer(async (peer) => {
    const head = await peer.readHead();
    assert.ok(head);
    // Nothing past the head until we say so (a client that ignored the
    // expectation would have sent the body by now).
    quietBefore100 = await peer.quietFor(100);
    await peer.write("HTTP/1.1 100 Continue\r\n\r\n");
    const body = latin1Text(await peer.readExactly(5));
    await peer.write(`HTTP/1.1 200 OK\r\ncontent-length: ${4 + body.length}\r\n\r\ngot ${body}`);
  });
  await using t = h1();
  const res = await t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "5"], ["expect", "100-continue"]],
      body: streamOf("hello"),
    }),
  );
  assert.equal(res.status, 200);
  assert.equal(await bodyText(res.body), "got hello");
  assert.equal(quietBefore100, true, "the body was sent before 100 Continue");
});

Deno.test("Expect: 100-continue: a final answer instead of 100 means the body is never sent", async () => {
  let bodyBytesSeen = -1;
  await using server = wireServer(async (peer) => {
    await peer.readHead();
    await peer.write("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 4\r\n\r\nnope");
    await peer.eof();
    bodyBytesSeen = peer.buffered;
  });
  await using t = h1();
  const body = streamOf("hello");
  const res = await t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "5"], ["expect", "100-continue"]],
      body,
    }),
  );
  assert.equal(res.status, 417);
  assert.equal(await bodyText(res.body), "nope");
  // The connection can't carry another request (the promised body never went): closed.
  await within(server.done(0), GUARD, "the connection to close");
  assert.equal(bodyBytesSeen, 0);
  assert.equal(body.cancelled, true, "the unsent body is cancelled");
});

Deno.test("interim 1xx responses are skipped, however they arrive", async () => {
  const wire = "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n" +
    "HTTP/1.1 100 Continue\r\n\r\n" +
    "HTTP/1.1 199 Whatever\r\nx: y\r\n\r\n" +
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-final: 1\r\n\r\nok";
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    // One byte at a time for the first connection, all at once for the second.
    if (peer.index === 0) {
      for (const byte of latin1Bytes(wire)) {
        await peer.write(new Uint8Array([byte]));
        await delay(0);
      }
    } else {
      await peer.write(wire);
    }
  });
  await using t = h1();
  for (let i = 0; i < 2; i++) {
    const res = await t.request(server.target, upstreamRequest());
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, [["content-length", "2"], ["x-final", "1"]]);
    assert.equal(await bodyText(res.body), "ok");
  }
});

Deno.test("101 Switching Protocols to an upgrade request hands over a usable socket", async () => {
  await using server = wireServer(async (peer) => {
    await peer.readHead();
    await peer.write(
      "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nhello",
    );
    const ping = latin1Text(await peer.readExactly(4));
    await peer.write(ping === "ping" ? "pong" : "what");
    await peer.eof();
  });
  await using t = h1();
  const res = await t.request(
    server.target,
    upstreamRequest({ headers: [["host", "a"], ["connection", "upgrade"], ["upgrade", "echo"]] }),
  );
  assert.equal(res.status, 101);
  assert.equal(res.body, null);
  assert.deepEqual(res.headers, [["connection", "upgrade"], ["upgrade", "echo"]]);
  assert.ok(res.upgrade);
  const conn = res.upgrade.conn;
  try {
    // "hello" may have come with the head (buffered) or may still be on the socket.
    let got = latin1Text(res.upgrade.buffered);
    const buf = new Uint8Array(64);
    const readMore = async () => {
      const n = await within(conn.read(buf), GUARD, "upgraded read");
      assert.ok(n !== null, "EOF on the upgraded socket");
      got += latin1Text(buf.subarray(0, n));
    };
    while (got.length < 5) await readMore();
    assert.equal(got, "hello");
    await conn.write(latin1Bytes("ping"));
    got = "";
    while (got.length < 4) await readMore();
    assert.equal(got, "pong");
  } finally {
    conn.close();
  }
  await within(server.done(0), GUARD, "the server to see the upgraded socket closed");
});

Deno.test("101 without an upgrade request is a protocol error", async () => {
  await using server = wireServer(async (peer) => {
    await peer.readHead();
    await peer.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\n\r\n");
    await peer.eof();
  });
  await using t = h1();
  await rejectsWith(t.request(server.target, upstreamRequest()), "protocol");
  await within(server.done(0), GUARD, "the connection to close");
});

Deno.test("close-delimited bodies are read to EOF, and the connection is not reused", async () => {
  const big = Uint8Array.from({ length: 150_000 }, (_, i) => i % 251);
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    if (peer.index === 0) {
      await peer.write("HTTP/1.1 200 OK\r\ncontent-type: x\r\n\r\n");
      for (let off = 0; off < big.length; off += 40_000) {
        await peer.write(big.subarray(off, off + 40_000));
        await delay(1);
      }
    } else {
      await peer.write("HTTP/1.0 200 OK\r\n\r\nold style");
    }
  });
  await using t = h1();
  const res = await t.request(server.target, upstreamRequest());
  assert.ok(res.body instanceof ReadableStream);
  assert.deepEqual(await bodyBytes(res.body), big);
  const old = await t.request(server.target, upstreamRequest());
  assert.equal(await bodyText(old.body), "old style");
  assert.equal(server.peers.length, 2);
});

Deno.test("a response with Connection: close is not pooled", async () => {
  // The server would keep answering: the client must be the one to close.
  await using server = wireServer(
    answerEach("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"),
  );
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  await within(server.done(0), GUARD, "the client to close the connection");
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  assert.equal(server.peers.length, 2);
  assert.equal(server.peers[0].requests.length, 1);
});

Deno.test("HTTP/1.0 responses without keep-alive are not pooled", async () => {
  await using server = wireServer(answerEach("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  await using t = h1();
  for (let i = 0; i < 2; i++) {
    assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  }
  assert.equal(server.peers.length, 2);
});

Deno.test("bytes after a complete response keep the connection out of the pool", async () => {
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    await peer.write(OK + "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nextra");
    await peer.eof();
  });
  await using t = h1();
  for (let i = 0; i < 2; i++) {
    assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  }
  assert.equal(server.peers.length, 2, "the unasked-for response was not taken as the next one");
});

Deno.test("malformed and truncated responses: protocol and reset errors", async (t) => {
  const cases: [string, string, string][] = [
    [
      "duplicate Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
      "protocol",
    ],
    [
      "CL and TE",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
      "protocol",
    ],
    ["bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "protocol"],
    ["obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\ncontent-length: 0\r\n\r\n", "protocol"],
    ["not HTTP", "this is not http\r\n\r\n", "protocol"],
    ["head over 128 KiB", `HTTP/1.1 200 OK\r\nX: ${"a".repeat(200_000)}\r\n\r\n`, "protocol"],
    ["nothing", "", "reset"],
    ["half a head", "HTTP/1.1 200 OK\r\nContent-Le", "reset"],
    ["short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "reset"],
  ];
  for (const [what, wire, kind] of cases) {
    await t.step(what, async () => {
      await using server = wireServer(async (peer) => {
        await peer.readRequest();
        await peer.write(wire);
      });
      await using transport = h1();
      await rejectsWith(transport.request(server.target, upstreamRequest()), kind);
    });
  }
});

Deno.test("a body cut short mid-stream errors the stream with a reset", async () => {
  await using server = wireServer(async (peer) => {
    await peer.readRequest();
    await peer.write("HTTP/1.1 200 OK\r\ncontent-length: 200000\r\n\r\n");
    await peer.write(new Uint8Array(100_000));
  });
  await using t = h1();
  const res = await t.request(server.target, upstreamRequest());
  await rejectsWith(bodyBytes(res.body), "reset");
});

Deno.test({
  // Regression (fixed in 43a6d0f): the head and the first chunk arrive in one
  // read, the rest later; H1Transport used to spin forever at 100% CPU.
  // Skipped rather than hung if CHUNKED_OFFSET_BUG comes back (see _h1.ts).
  name: "a chunked body arriving over several reads after the head",
  ignore: CHUNKED_OFFSET_BUG,
  async fn() {
    await using server = wireServer(async (peer) => {
      await peer.readRequest();
      await peer.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\none\r\n");
      await delay(20);
      await peer.write("5\r\n two \r\n");
      await delay(20);
      await peer.write("0\r\nx-trailer: 1\r\n\r\n");
      await answerEach(OK)(peer);
    });
    await using t = h1();
    const res = await t.request(server.target, upstreamRequest());
    assert.equal(await within(bodyText(res.body), GUARD, "body"), "one two ");
    assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
    assert.equal(server.peers.length, 1, "reused after a complete chunked body");
  },
});

Deno.test({
  // Regression (fixed in 43a6d0f): when the head arrived before the request
  // body was all written (a backend that answers while it reads, like
  // backend.ts /echo), the writer armed the response deadline once the
  // upload ended, and it then cut the still-streaming response body with
  // "response_timeout".
  name: "the response timeout does not cut a body that started before the upload ended",
  async fn() {
    await using server = wireServer(async (peer) => {
      const head = await peer.readHead();
      assert.ok(head);
      await peer.write("HTTP/1.1 200 OK\r\n\r\none"); // answers before the body is in
      while (!peer.receivedText.endsWith("0\r\n\r\n")) await peer.readLine();
      await delay(600); // three response timeouts after the upload ended
      await peer.write("two");
    });
    await using t = h1({ responseTimeoutMs: 200 });
    let upload!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (upload = c) });
    upload.enqueue(latin1Bytes("up"));
    const res = await t.request(
      server.target,
      upstreamRequest({ method: "POST", headers: [["host", "a"]], body }),
    );
    upload.close();
    assert.equal(await within(bodyText(res.body), GUARD, "body"), "onetwo");
  },
});

Deno.test({
  // Regression (fixed in 43a6d0f): a final response that arrived while the
  // request body was still being written was returned only once the whole
  // upload had been written; a backend that answers early (401, 413) and
  // stops reading left request() pending forever. RFC 9112 §9.3.
  name: "an early final response is returned while the upload is still blocked",
  async fn() {
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    await using server = wireServer(async (peer) => {
      await peer.readHead();
      await peer.write("HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope");
      await held; // never reads the upload
    });
    await using t = h1();
    const chunk = new Uint8Array(64 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(chunk), // endless upload
    }, { highWaterMark: 0 });
    const abort = new AbortController();
    const pending = t.request(
      server.target,
      upstreamRequest({ method: "POST", headers: [["host", "a"]], body, signal: abort.signal }),
    );
    try {
      const res = await within(pending, 2000, "the 401 while the upload is blocked");
      assert.equal(res.status, 401);
      assert.equal(await bodyText(res.body), "nope");
    } finally {
      abort.abort();
      release();
      const late = await pending.catch(() => null);
      if (late?.body instanceof ReadableStream) await late.body.cancel();
      await body.cancel().catch(() => {});
    }
  },
});

Deno.test({
  // Regression (fixed in 43a6d0f): the head was UTF-8 encoded, so an
  // obs-text byte (0x80-0xFF, which Deno.serve hands over as one latin1
  // character) went out as two bytes: "caf\xe9" as 63 61 66 c3 a9.
  name: "request header bytes go out unchanged (latin1), obs-text included",
  async fn() {
    await using server = wireServer(answerEach(OK));
    await using t = h1();
    const res = await t.request(
      server.target,
      upstreamRequest({ headers: [["host", "a"], ["x-v", "caf\xe9\xff"]] }),
    );
    assert.equal(await bodyText(res.body), "ok");
    assert.equal(
      server.peers[0].requests[0].head,
      "GET / HTTP/1.1\r\nhost: a\r\nx-v: caf\xe9\xff\r\n\r\n",
    );
  },
});

Deno.test({
  // Regression (fixed in 43a6d0f): a writer waiting for 100 Continue sat on
  // its 1 s timer when the exchange ended first (abort, error): the body was
  // cancelled only then, and the pending timer tripped the op sanitizer.
  name: "an abort while waiting for 100 Continue cancels the body at once",
  async fn() {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => arrived = r);
    await using server = wireServer(async (peer) => {
      await peer.readHead();
      arrived();
      await peer.eof();
    });
    await using t = h1();
    const abort = new AbortController();
    const body = streamOf("hello");
    const pending = t.request(
      server.target,
      upstreamRequest({
        method: "POST",
        headers: [["host", "a"], ["content-length", "5"], ["expect", "100-continue"]],
        body,
        signal: abort.signal,
      }),
    );
    await within(requestArrived, GUARD, "the request head");
    abort.abort();
    await assert.rejects(pending, ClientAbortError);
    await delay(50);
    assert.equal(body.cancelled, true);
  },
});

Deno.test("a buffered (Uint8Array) body goes out with its head and is not replayed", async () => {
  await using server = closesOnSecondRequest(answerEach(OK));
  await using t = h1();
  const put = await t.request(
    server.target,
    upstreamRequest({
      method: "PUT",
      headers: [["host", "a"], ["content-length", "5"]],
      body: latin1Bytes("he\xffl\x00"),
    }),
  );
  assert.equal(await bodyText(put.body), "one");
  assert.equal(
    latin1Text(server.peers[0].requests[0].raw),
    "PUT / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhe\xffl\x00",
  );
  // The pooled connection dies under the next request: bytes could be sent
  // again, but a POST is still not replayed by the transport.
  const post = t.request(
    server.target,
    upstreamRequest({
      method: "POST",
      headers: [["host", "a"], ["content-length", "4"]],
      body: latin1Bytes("data"),
    }),
  );
  await rejectsWith(post, "reset");
  assert.equal(server.peers.length, 1);
});

Deno.test({
  // Regression test for a fixed bug (client.ts:165-172, Exchange.run): a Uint8Array body (allowed by
  // UpstreamRequest since the replay buffer) without a content-length field
  // gets framing "chunked", so the head says `transfer-encoding: chunked`,
  // but the bytes are appended to the head unframed: the backend receives
  // "...transfer-encoding: chunked\r\n\r\nhello", an invalid chunked body
  // (and, with chosen bytes, a second request: smuggling). Today's proxy
  // only buffers bodies that have a Content-Length, so it is latent there;
  // NodeHttpTransport chunk-frames the same request correctly.
  name: "a buffered body without Content-Length is framed correctly",
  async fn() {
    await using server = wireServer(answerEach(OK));
    await using t = h1({ responseTimeoutMs: 1000 });
    for (const body of ["hello", "0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: a\r\n\r\n"]) {
      const res = await t.request(
        server.target,
        upstreamRequest({ method: "POST", headers: [["host", "a"]], body: latin1Bytes(body) }),
      );
      assert.equal(await bodyText(res.body), "ok");
      assert.equal(latin1Text(server.peers.at(-1)!.requests.at(-1)!.body), body);
    }
    assert.deepEqual(server.peers.map((p) => p.requests.length), [2]);
  },
});

Deno.test({
  // Regression test for a fixed bug (head.ts:56 findHeadEnd, with connection.ts MAX_BUFFER = 128 KiB):
  // the MAX_HEAD_BYTES (64 KiB) limit is checked only while no terminator has
  // been found. Since 9c0a22e the read buffer grows to 128 KiB, so a head
  // between 64 and 128 KiB whose end arrives in the read that crosses 64 KiB
  // is accepted (here a 70 KB head written at once: status 200). Whether such
  // a head passes depends on how the bytes happen to be split into reads.
  // Pure counterpart in h1_head_test.ts.
  name: "a response head over 64 KiB is refused however its bytes arrive",
  async fn() {
    await using server = wireServer(async (peer) => {
      await peer.readRequest();
      await peer.write(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}\r\ncontent-length: 0\r\n\r\n`);
    });
    await using t = h1();
    await rejectsWith(t.request(server.target, upstreamRequest()), "protocol");
  },
});

Deno.test("at most 128 connections per backend: the next request waits for a free one", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using server = wireServer(async (peer) => {
    for (let req = await peer.readRequest(); req; req = await peer.readRequest()) {
      await gate;
      await peer.write(OK);
    }
  });
  await using t = h1();
  const pending = Array.from({ length: 129 }, () => t.request(server.target, upstreamRequest()));
  const arrived = () => server.peers.reduce((n, p) => n + p.requests.length, 0);
  while (arrived() < 128) await within(delay(5), GUARD, "128 requests to arrive");
  await delay(50);
  assert.equal(server.peers.length, 128, "no 129th connection while 128 are busy");
  release();
  for (const res of await Promise.all(pending)) assert.equal(await bodyText(res.body), "ok");
  assert.equal(server.peers.length, 128, "the 129th request got a connection handed over");
  assert.equal(arrived(), 129);
});

Deno.test("no free connection within the connect timeout is pool_timeout, not an unreachable backend", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using server = wireServer(async (peer) => {
    for (let req = await peer.readRequest(); req; req = await peer.readRequest()) {
      await gate;
      await peer.write(OK);
    }
  });
  await using t = h1({ maxConnectionsPerBackend: 1, connectTimeoutMs: 300 });
  const first = t.request(server.target, upstreamRequest());
  const err = await t.request(server.target, upstreamRequest()).then(
    () => assert.fail("the second request got a connection"),
    (e) => e,
  );
  assert.ok(err instanceof UpstreamError);
  assert.equal(err.kind, "pool_timeout");
  // Nothing was sent, so it may go elsewhere; but the backend is not to be marked down.
  assert.equal(err.mayHaveReached, false);
  assert.equal(err.unreachable, false);
  release();
  assert.equal(await bodyText((await first).body), "ok");
});

Deno.test("every way a connection ends gives its slot back", async () => {
  // A leaked slot per exchange would exhaust the 128 after 128 rounds: the
  // next request would then wait connectTimeoutMs and fail pool_timeout.
  let aborts = 0;
  await using server = wireServer(async (peer) => {
    for (let req = await peer.readRequest(); req; req = await peer.readRequest()) {
      switch (req.head.split(" ")[1]) {
        case "/close":
          await peer.write("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
          break;
        case "/bad":
          await peer.write("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n");
          break;
        case "/cancel":
          await peer.write(`HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n${"a".repeat(1000)}`);
          break;
        case "/upgrade":
          await peer.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n");
          break;
        case "/abort":
          aborts++; // no answer: the client gives up
          break;
      }
    }
  });
  await using t = h1({ connectTimeoutMs: 1000 });
  const paths = ["/close", "/bad", "/cancel", "/upgrade", "/abort"];
  for (let i = 0; i < 135; i++) {
    const path = paths[i % paths.length];
    if (path === "/close") {
      assert.equal(
        await bodyText((await t.request(server.target, upstreamRequest({ path }))).body),
        "ok",
      );
    } else if (path === "/bad") {
      await rejectsWith(t.request(server.target, upstreamRequest({ path })), "protocol");
    } else if (path === "/cancel") {
      const res = await t.request(server.target, upstreamRequest({ path }));
      assert.ok(res.body instanceof ReadableStream);
      await res.body.cancel();
    } else if (path === "/upgrade") {
      const res = await t.request(
        server.target,
        upstreamRequest({ path, headers: [["host", "a"], ["upgrade", "x"]] }),
      );
      assert.ok(res.upgrade);
      res.upgrade.conn.close();
    } else {
      // Aborted once the request is in. (An abort during Deno.connect can
      // leak the half-made socket inside Deno itself, seen about once in a
      // few hundred tries, which the resource sanitizer would pin on us.)
      const abort = new AbortController();
      const pending = t.request(server.target, upstreamRequest({ path, signal: abort.signal }));
      const before = aborts;
      while (aborts === before) await within(delay(1), GUARD, "the request to arrive");
      abort.abort();
      await assert.rejects(pending, ClientAbortError);
    }
  }
  assert.ok(server.peers.length >= 130);
});

Deno.test("a head that can't be encoded fails its request before anything is dialled or written", async () => {
  await using server = wireServer(answerEach(OK));
  await using t = h1();
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
  // A hook may set any header value; one above 0xFF can't be sent as a byte.
  // It must not pass for a stale pooled connection and be sent again on a new one.
  const bad = upstreamRequest({ headers: [["host", "a"], ["x-name", "\u0100"]] });
  await rejectsWith(t.request(server.target, bad), "reset");
  assert.equal(server.peers.length, 1, "no connection dialled for it");
  assert.equal(server.peers[0].requests.length, 1, "nothing of it written");
  assert.equal(await bodyText((await t.request(server.target, upstreamRequest())).body), "ok");
});
