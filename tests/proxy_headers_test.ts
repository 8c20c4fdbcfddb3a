/**
 * Proxy rules 2, 3, 4, 5 and 9 through a real lb process: hop-by-hop
 * stripping, forwarding headers, untouched encoded bodies, redirects and
 * absolute-form targets, Set-Cookie, bodiless responses and custom status
 * codes. Every response is read raw off the socket.
 */

import assert from "node:assert/strict";
import { httpServer, rawRequest, rawServer, send } from "./_http.ts";
import { startLbWith, VARIANTS, waitFor } from "./_lb.ts";

const GZIP_BYTES = await (async () => {
  const text = "compress me please ".repeat(300);
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
})();

function mirror() {
  return httpServer((req) => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/gzip":
        return new Response(GZIP_BYTES, {
          headers: {
            "content-encoding": "gzip",
            "content-type": "text/plain",
            "content-length": String(GZIP_BYTES.length),
          },
        });
      case "/cookies": {
        const h = new Headers();
        h.append("set-cookie", "a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT");
        h.append("set-cookie", "b=2; Path=/");
        return new Response("c", { headers: h });
      }
      case "/redirect":
        return new Response(null, {
          status: 302,
          headers: { location: "http://elsewhere.invalid/" },
        });
      case "/204":
        return new Response(null, { status: 204 });
      case "/304":
        return new Response(null, { status: 304, headers: { etag: '"x"' } });
      case "/head":
        return new Response("0123456789", { headers: { "content-type": "text/plain" } });
      case "/text":
        return new Response("some text to squeeze ".repeat(200), {
          headers: { "content-type": "text/plain" },
        });
      default:
        return Response.json({
          method: req.method,
          url: req.url,
          headers: [...req.headers],
        });
    }
  });
}

type Mirrored = { method: string; url: string; headers: [string, string][] };
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

for (const variant of VARIANTS) {
  Deno.test(`[${variant.name}] proxy headers and bodies through a real lb`, async (t) => {
    await using backend = mirror();
    await using lb = await startLbWith(variant, [backend.origin]);
    await using trusting = await startLbWith(variant, [backend.origin], [
      "--trust-proxy",
      "127.0.0.0/8",
    ]);

    const get = (path: string, extra: string[] = [], port = lb.port) =>
      rawRequest(port, [
        `GET ${path} HTTP/1.1`,
        "Host: app.example:8080",
        ...variant.lines,
        ...extra,
      ]);

    await t.step("rule 2: request hop-by-hop headers are removed", async () => {
      const res = await get("/", [
        "Connection: X-Hop, Keep-Alive",
        "X-Hop: secret",
        "Keep-Alive: timeout=5",
        "Proxy-Connection: keep-alive",
        "Proxy-Authorization: Basic Zm9vOmJhcg==",
        "TE: trailers, deflate",
        "X-End-To-End: kept",
      ]);
      assert.equal(res.status, 200);
      const seen = new Map((JSON.parse(decode(res.body)) as Mirrored).headers);
      for (const name of ["x-hop", "keep-alive", "proxy-connection", "proxy-authorization"]) {
        assert.equal(seen.has(name), false, `${name} was forwarded`);
      }
      assert.equal(seen.get("te"), "trailers");
      assert.equal(seen.get("x-end-to-end"), "kept");
    });

    await t.step("rule 2: response hop-by-hop headers are removed", async () => {
      await using raw = rawServer(async (conn) => {
        await send(
          conn,
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Secret\r\nX-Secret: 1\r\n" +
            "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nX-Kept: yes\r\n\r\nok",
        );
      });
      await using lb2 = await startLbWith(variant, [raw.origin]);
      const res = await get("/", [], lb2.port);
      assert.equal(res.status, 200);
      assert.equal(decode(res.body), "ok");
      assert.equal(res.header("x-secret"), undefined);
      assert.equal(res.header("keep-alive"), undefined);
      assert.equal(res.header("proxy-authenticate"), undefined);
      assert.equal(res.header("x-kept"), "yes");
    });

    await t.step("rule 3: forwarding headers from an untrusted peer are replaced", async () => {
      const res = await get("/", [
        "X-Forwarded-For: 6.6.6.6",
        "X-Forwarded-Proto: https",
        "X-Forwarded-Host: evil.example",
        "Forwarded: for=6.6.6.6",
        "Via: 1.0 upstream-proxy",
      ]);
      const seen = new Map((JSON.parse(decode(res.body)) as Mirrored).headers);
      assert.equal(seen.get("x-forwarded-for"), "127.0.0.1");
      assert.equal(seen.get("x-forwarded-proto"), "http");
      assert.equal(seen.get("x-forwarded-host"), "app.example:8080");
      assert.equal(seen.get("forwarded"), 'for=127.0.0.1;host="app.example:8080";proto=http');
      assert.equal(seen.get("via"), "1.0 upstream-proxy, 1.1 deno-lb");
      assert.equal(seen.get("host"), "app.example:8080");
      assert.equal(res.header("via"), "1.1 deno-lb");
    });

    await t.step("rule 3: a trusted peer's forwarding headers are kept and extended", async () => {
      const res = await get("/", [
        "X-Forwarded-For: 6.6.6.6",
        "X-Forwarded-Proto: https",
        "X-Forwarded-Host: public.example",
        "Forwarded: for=6.6.6.6;proto=https",
      ], trusting.port);
      const seen = new Map((JSON.parse(decode(res.body)) as Mirrored).headers);
      assert.equal(seen.get("x-forwarded-for"), "6.6.6.6, 127.0.0.1");
      assert.equal(seen.get("x-forwarded-proto"), "https");
      assert.equal(seen.get("x-forwarded-host"), "public.example");
      assert.equal(
        seen.get("forwarded"),
        'for=6.6.6.6;proto=https, for=127.0.0.1;host="app.example:8080";proto=http',
      );
    });

    await t.step("rule 4: a gzip body arrives byte-identical with its headers", async () => {
      const res = await get("/gzip", ["Accept-Encoding: gzip"]);
      assert.equal(res.status, 200);
      assert.equal(res.header("content-encoding"), "gzip");
      assert.equal(res.header("content-length"), String(GZIP_BYTES.length));
      assert.equal(res.chunked, false);
      assert.deepEqual(res.body, GZIP_BYTES);
    });

    await t.step("rule 5: redirects pass through, never followed", async () => {
      const res = await get("/redirect");
      assert.equal(res.status, 302);
      assert.equal(res.header("location"), "http://elsewhere.invalid/");
    });

    await t.step("rule 5: an absolute-form target can't redirect the request", async () => {
      const res = await get("http://elsewhere.invalid:9/x?y=1");
      assert.equal(res.status, 200);
      const seen = JSON.parse(decode(res.body)) as Mirrored;
      assert.equal(new URL(seen.url).pathname + new URL(seen.url).search, "/x?y=1");
    });

    await t.step("rule 9: Set-Cookie headers stay separate", async () => {
      const res = await get("/cookies");
      assert.deepEqual(res.all("set-cookie"), [
        "a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "b=2; Path=/",
      ]);
    });

    await t.step("rule 9: HEAD, 204 and 304 carry no body", async () => {
      const head = await rawRequest(lb.port, ["HEAD /head HTTP/1.1", "Host: a", ...variant.lines]);
      assert.equal(head.status, 200);
      assert.equal(head.header("content-length"), "10");
      assert.equal(head.body.length, 0);
      const noContent = await get("/204");
      assert.equal(noContent.status, 204);
      assert.equal(noContent.body.length, 0);
      const notModified = await get("/304");
      assert.equal(notModified.status, 304);
      assert.equal(notModified.header("etag"), '"x"');
      assert.equal(notModified.body.length, 0);
    });

    await t.step("rule 9: custom status codes without reason phrases pass through", async () => {
      await using raw = rawServer(async (conn, request) => {
        const code = /GET \/(\d+)/.exec(request)?.[1] ?? "200";
        await send(conn, `HTTP/1.1 ${code} \r\nContent-Length: 1\r\n\r\nx`);
      });
      await using lb2 = await startLbWith(variant, [raw.origin]);
      for (const code of [299, 418, 499, 599]) {
        const res = await get(`/${code}`, [], lb2.port);
        assert.equal(res.status, code);
        assert.equal(decode(res.body), "x");
      }
    });

    if (variant.policies) {
      await t.step("every policy acted on the request, and the suite still passed", async () => {
        const res = await get("/", [
          "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ]);
        assert.equal(res.status, 200);
        const seen = new Map((JSON.parse(decode(res.body)) as Mirrored).headers);
        assert.equal(seen.get("authorization"), undefined, "basic auth strips its credentials");
        assert.equal(seen.get("x-auth-user"), "policy-suite", "forward auth copied its field");
        assert.equal(seen.get("x-policy"), "default", "request header rule");
        assert.match(seen.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
        assert.match(
          seen.get("traceparent") ?? "",
          /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/,
        );
        assert.equal(res.header("x-request-id"), seen.get("x-request-id"));
        assert.equal(res.header("x-policy"), "default", "response header rule");
        assert.ok(res.header("ratelimit"), "rate limit fields");
        const services = lb.policyServices!;
        assert.ok(services.authChecks > 0);
        await waitFor(() => services.exports > 0, 5000, "spans exported");
        const text = await get("/text", ["Accept-Encoding: gzip"]);
        assert.equal(text.header("content-encoding"), "gzip", "compression");
        const plain = await new Response(
          new Blob([text.body.slice()]).stream().pipeThrough(new DecompressionStream("gzip")),
        ).text();
        assert.equal(plain, "some text to squeeze ".repeat(200));
        const denied = await rawRequest(lb.port, ["GET / HTTP/1.1", "Host: a"]);
        assert.equal(denied.status, 401, "no credentials, no entry");
      });
    }

    await t.step("a request without Host gets 400", async () => {
      const res = await rawRequest(lb.port, ["GET / HTTP/1.1", ...variant.lines]);
      assert.equal(res.status, 400);
    });
  });
}
