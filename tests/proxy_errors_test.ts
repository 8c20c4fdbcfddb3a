/**
 * Proxy rules 6, 7 and 8 through a real lb process: status codes for broken
 * backends, which requests are retried (a POST never twice), and client
 * disconnects cancelling upstream work.
 */

import assert from "node:assert/strict";
import { httpServer, rawRequest, rawServer, send, writeAll } from "./_http.ts";
import { startLbWith, status, type Variant, VARIANTS, waitFor } from "./_lb.ts";

/** A loopback port with nothing listening on it. */
function deadOrigin(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}

/** A backend that counts requests by method and answers with its name. */
function counting(name: string) {
  const seen: string[] = [];
  const server = httpServer(async (req) => {
    const body = await req.text();
    seen.push(`${req.method} ${body}`);
    return new Response(name);
  });
  return Object.assign(server, { seen });
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** A request head for `line` (method and path) with the variant's own fields. */
function head(line: string, variant: Variant): string {
  return [`${line} HTTP/1.1`, "Host: a", ...variant.lines, "", ""].join("\r\n");
}

for (const variant of VARIANTS) {
  Deno.test(`[${variant.name}] rule 6: refused backend gives 502, then 503 with Retry-After`, async () => {
    // --health-fall 3: the probe at startup must not take it down before the request does.
    const flags = ["--health-interval", "10s", "--health-fall", "3"];
    await using lb = await startLbWith(variant, [deadOrigin()], flags);
    const first = await rawRequest(lb.port, ["GET / HTTP/1.1", "Host: a", ...variant.lines]);
    assert.equal(first.status, 502);
    assert.doesNotMatch(decode(first.body), /127\.0\.0\.1|Error|at /);
    const second = await rawRequest(lb.port, ["GET / HTTP/1.1", "Host: a", ...variant.lines]);
    assert.equal(second.status, 503);
    assert.equal(second.header("retry-after"), "10");
  });

  Deno.test(`[${variant.name}] rule 6: reset and malformed responses give 502; a slow one 504`, async (t) => {
    await using reset = rawServer(async () => {}); // closes after reading the head
    await using malformed = rawServer(async (conn) => {
      await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    });
    await using garbage = rawServer(async (conn) => {
      await send(conn, "this is not http\r\n\r\n");
    });
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    await using slow = rawServer(() => never);
    const cases: [string, string, number][] = [
      ["reset", reset.origin, 502],
      ["duplicate Content-Length", malformed.origin, 502],
      ["not HTTP", garbage.origin, 502],
      ["no response within --response-timeout", slow.origin, 504],
    ];
    for (const [what, origin, expected] of cases) {
      await t.step(what, async () => {
        await using lb = await startLbWith(variant, [origin], [
          "--response-timeout",
          "300ms",
          "--retries",
          "0",
        ]);
        const res = await rawRequest(lb.port, ["GET / HTTP/1.1", "Host: a", ...variant.lines]);
        assert.equal(res.status, expected);
      });
    }
    release();
  });

  Deno.test(`[${variant.name}] rule 7: a refused connect is retried on the next backend, even a POST`, async () => {
    await using good = counting("good");
    await using lb = await startLbWith(variant, [deadOrigin(), good.origin], [
      "--health-interval",
      "10s",
    ]);
    const body = new TextEncoder().encode("payload-1");
    const res = await rawRequest(lb.port, [
      "POST /submit HTTP/1.1",
      "Host: a",
      `Content-Length: ${body.length}`,
      ...variant.lines,
    ], body);
    assert.equal(res.status, 200);
    assert.equal(decode(res.body), "good");
    assert.deepEqual(good.seen, ["POST payload-1"]);
  });

  Deno.test(`[${variant.name}] rule 7: a POST that may have reached a backend is never sent twice`, async () => {
    // Reads the head (and the small body with it), then drops the connection.
    await using reset = rawServer(async () => {});
    await using good = counting("good");
    await using lb = await startLbWith(variant, [reset.origin, good.origin]);
    const body = new TextEncoder().encode("charge-card-once");
    const res = await rawRequest(lb.port, [
      "POST /pay HTTP/1.1",
      "Host: a",
      `Content-Length: ${body.length}`,
      ...variant.lines,
    ], body);
    assert.equal(res.status, 502);
    assert.equal(reset.received.length, 1);
    assert.deepEqual(good.seen, []);
  });

  Deno.test(`[${variant.name}] rule 7: a GET that hit a reset is retried, within --retries`, async (t) => {
    await t.step("retried on a good backend", async () => {
      await using reset = rawServer(async () => {});
      await using good = counting("good");
      await using lb = await startLbWith(variant, [reset.origin, good.origin]);
      const res = await rawRequest(lb.port, ["GET /x HTTP/1.1", "Host: a", ...variant.lines]);
      assert.equal(res.status, 200);
      assert.equal(decode(res.body), "good");
      assert.equal(reset.received.length, 1);
    });
    await t.step("at most --retries extra attempts", async () => {
      const resets = [
        rawServer(async () => {}),
        rawServer(async () => {}),
        rawServer(async () => {}),
      ];
      try {
        await using lb = await startLbWith(variant, resets.map((r) => r.origin), [
          "--retries",
          "1",
        ]);
        const res = await rawRequest(lb.port, ["GET /x HTTP/1.1", "Host: a", ...variant.lines]);
        assert.equal(res.status, 502);
        assert.equal(resets.reduce((n, r) => n + r.received.length, 0), 2);
      } finally {
        await Promise.all(resets.map((r) => r.close()));
      }
    });
  });

  Deno.test(`[${variant.name}] rule 8: a client that goes away cancels its upstream request`, async (t) => {
    let headAborted!: () => void;
    const headAbort = new Promise<void>((r) => (headAborted = r));
    let bodyCancelled!: () => void;
    const bodyCancel = new Promise<void>((r) => (bodyCancelled = r));
    await using backend = httpServer((req) => {
      if (new URL(req.url).pathname === "/slow") {
        return new Promise<Response>((resolve) => {
          req.signal.addEventListener("abort", () => {
            headAborted();
            resolve(new Response("late"));
          });
        });
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const body = new ReadableStream<Uint8Array>({
        pull: (c) =>
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              c.enqueue(new Uint8Array(1024));
              resolve();
            }, 5);
          }),
        cancel: () => {
          clearTimeout(timer);
          bodyCancelled();
        },
      });
      return new Response(body);
    });
    await using lb = await startLbWith(variant, [backend.origin]);

    await t.step("while waiting for response headers", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.port });
      await writeAll(conn, new TextEncoder().encode(head("GET /slow", variant)));
      await new Promise((r) => setTimeout(r, 200));
      conn.close();
      await headAbort;
    });

    await t.step("while streaming the response body", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.port });
      await writeAll(conn, new TextEncoder().encode(head("GET /stream", variant)));
      await conn.read(new Uint8Array(4096));
      conn.close();
      await bodyCancel;
    });

    await t.step("nothing is left in flight", async () => {
      await waitFor(async () => (await status(lb)).backends[0].inFlight === 0, 3000, "inFlight 0");
    });
  });

  Deno.test(`[${variant.name}] rule 6: a connect that times out gives 504 (and moves on to another backend)`, async (t) => {
    // A listener that never accepts: once its accept queue is full the kernel
    // drops further SYNs, so a connect hangs just as with an unreachable host.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const fillers: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 5000; i++) {
        try {
          fillers.push(
            await Deno.connect({ hostname: "127.0.0.1", port, signal: AbortSignal.timeout(200) }),
          );
        } catch {
          break; // the queue is full
        }
      }
      const blackhole = `http://127.0.0.1:${port}`;
      const flags = [
        "--connect-timeout",
        "300ms",
        "--health-interval",
        "10s",
        "--health-fall",
        "3",
      ];
      await t.step("alone: 504", async () => {
        await using lb = await startLbWith(variant, [blackhole], flags);
        const res = await rawRequest(lb.port, ["GET / HTTP/1.1", "Host: a", ...variant.lines]);
        assert.equal(res.status, 504);
      });
      await t.step("with a good backend: retried there, even a POST", async () => {
        await using good = counting("good");
        await using lb = await startLbWith(variant, [blackhole, good.origin], flags);
        const body = new TextEncoder().encode("once");
        const res = await rawRequest(lb.port, [
          "POST / HTTP/1.1",
          "Host: a",
          `Content-Length: ${body.length}`,
          ...variant.lines,
        ], body);
        assert.equal(res.status, 200);
        assert.deepEqual(good.seen, ["POST once"]);
      });
    } finally {
      for (const c of fillers) c.close();
      listener.close();
    }
  });
}
