/**
 * Forward auth's pure parts: the config, the subrequest's target and
 * fields, the copy of a 2xx answer's fields (forged ones removed), a
 * denial's fields, and bounded body reads.
 */

import assert from "node:assert/strict";
import { UsageError } from "../../lib/config/cli.ts";
import { parseConfigFile } from "../../lib/config/file.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import {
  authRequestFields,
  authTarget,
  BodyTooLarge,
  copyAuthFields,
  denialFields,
  readBounded,
} from "../../lib/policy/auth_subrequest.ts";

const ARGS = ["--backends", "http://127.0.0.1:1"];

function parse(auth: unknown) {
  return parseLbArgs(
    ARGS,
    {},
    undefined,
    parseConfigFile("lb.yaml", JSON.stringify({ policies: { "forward-auth": auth } })),
  );
}

function problems(auth: unknown): readonly string[] {
  try {
    parse(auth);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.problems;
  }
  assert.fail("expected a UsageError");
}

Deno.test("config: defaults, and every problem names its key", () => {
  const ok = parse({
    url: "http://auth.test:9000/check?x=1",
    "copy-headers": ["X-User", "x-user"],
  });
  assert.ok(ok.kind === "run");
  assert.deepEqual(ok.config.routes[0].policies!.forwardAuth, {
    url: "http://auth.test:9000/check?x=1",
    copyHeaders: ["x-user"],
    timeoutMs: 5000,
    onErrorStatus: 503,
    maxBodyBytes: 65536,
  });
  const full = parse({
    url: "https://auth.test/",
    "request-headers": ["Cookie", "authorization"],
    "user-header": "X-Auth-User",
    timeout: "250ms",
    "on-error": 401,
    "max-body": "1KiB",
  });
  assert.ok(full.kind === "run");
  const c = full.config.routes[0].policies!.forwardAuth!;
  assert.deepEqual(c.requestHeaders, ["cookie", "authorization"]);
  assert.equal(c.userHeader, "x-auth-user");
  assert.equal(c.timeoutMs, 250);
  assert.equal(c.onErrorStatus, 401);
  assert.equal(c.maxBodyBytes, 1024);
  const at = "--config: lb.yaml: policies.forward-auth";
  assert.deepEqual(
    problems({
      url: "ftp://auth.test/",
      "copy-headers": ["content-length", "bad name"],
      timeout: "0",
      "max-body": "2MiB",
    }),
    [
      `${at}.url: "ftp://auth.test/" is not an http:// or https:// URL`,
      `${at}.timeout: "0" is not a positive duration (e.g. 500ms, 5s)`,
      `${at}.max-body: "2MiB" is not a size up to 1MiB (e.g. 16KiB, 0)`,
      `${at}.copy-headers: content-length is a hop-by-hop or framing field; the proxy manages it`,
      `${at}.copy-headers: "bad name" is not a field name (RFC 9110 §5.1 token)`,
    ],
  );
  assert.deepEqual(problems({ url: "http://u:p@auth.test/" }), [
    `${at}.url: credentials in the URL are not sent; leave them out`,
  ]);
  assert.deepEqual(problems({ url: "not a url" }), [
    `${at}.url: "not a url" is not a URL (expected http://auth:9000/check)`,
  ]);
  assert.deepEqual(problems({ url: "http://a.test/", "on-error": 500 }).length, 1); // schema: enum
});

Deno.test("authTarget: origin, authority, port and path of the URL", () => {
  assert.deepEqual(authTarget("http://auth.test:9000/check?x=1"), {
    origin: "http://auth.test:9000",
    hostname: "auth.test",
    port: 9000,
    tls: false,
    authority: "auth.test:9000",
    path: "/check?x=1",
  });
  assert.deepEqual(authTarget("https://[::1]"), {
    origin: "https://[::1]",
    hostname: "::1",
    port: 443,
    tls: true,
    authority: "[::1]",
    path: "/",
  });
});

Deno.test("authRequestFields: the auth service's Host, no framing, the forwarding fields always, method and URI ours (X-Forwarded-* and X-Original-*)", () => {
  const fields: HeaderPairs = [
    ["host", "site.test"],
    ["content-length", "5"],
    ["expect", "100-continue"],
    ["cookie", "session=1"],
    ["x-forwarded-method", "FORGED"],
    ["x-forwarded-uri", "/forged"],
    ["x-original-url", "http://site.test/public"],
    ["x-original-uri", "/public"],
    ["x-original-method", "GET"],
    ["accept", "text/html"],
    ["x-forwarded-for", "192.0.2.1"],
    ["x-forwarded-proto", "http"],
    ["x-forwarded-host", "site.test"],
    ["forwarded", "for=192.0.2.1;host=site.test;proto=http"],
  ];
  const subject = { method: "POST", uri: "/a/b?c=1", fields };
  const tail: HeaderPairs = [
    ["x-forwarded-method", "POST"],
    ["x-forwarded-uri", "/a/b?c=1"],
    ["x-original-method", "POST"],
    ["x-original-uri", "/a/b?c=1"],
    ["x-original-url", "http://site.test/a/b?c=1"],
  ];
  assert.deepEqual(authRequestFields(subject, "auth.test:9000"), [
    ["host", "auth.test:9000"],
    ["cookie", "session=1"],
    ["accept", "text/html"],
    ...fields.slice(10),
    ...tail,
  ]);
  assert.deepEqual(authRequestFields(subject, "auth.test", new Set(["cookie"])), [
    ["host", "auth.test"],
    ["cookie", "session=1"],
    ...fields.slice(10),
    ...tail,
  ]);
});

Deno.test("copyAuthFields: the client's fields of those names go even when the answer has none; the answer's are added", () => {
  const upstream: HeaderPairs = [
    ["host", "site.test"],
    ["x-user", "forged"],
    ["accept", "*/*"],
    ["x-roles", "admin"],
    ["x-user", "forged2"],
  ];
  copyAuthFields(
    upstream,
    [["x-user", "alice"], ["set-cookie", "a=1"]],
    new Set(["x-user", "x-roles"]),
  );
  assert.deepEqual(upstream, [["host", "site.test"], ["accept", "*/*"], ["x-user", "alice"]]);
  const untouched: HeaderPairs = [["x-user", "kept"]];
  copyAuthFields(untouched, [["x-user", "alice"]], new Set());
  assert.deepEqual(untouched, [["x-user", "kept"]]);
});

Deno.test("denialFields: hop-by-hop, those Connection names and framing removed; the rest kept in order", () => {
  assert.deepEqual(
    denialFields([
      ["location", "https://login.test/"],
      ["connection", "close, x-hop"],
      ["x-hop", "1"],
      ["keep-alive", "timeout=5"],
      ["content-length", "12"],
      ["transfer-encoding", "chunked"],
      ["www-authenticate", 'Bearer realm="x"'],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]),
    [
      ["location", "https://login.test/"],
      ["www-authenticate", 'Bearer realm="x"'],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ],
  );
});

function stream(chunks: string[]): ReadableStream<Uint8Array> & { cancelled: boolean } {
  const enc = new TextEncoder();
  let i = 0;
  const s = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
      else c.close();
    },
    cancel() {
      s.cancelled = true;
    },
  }) as ReadableStream<Uint8Array> & { cancelled: boolean };
  s.cancelled = false;
  return s;
}

Deno.test("readBounded: bytes, streams and none within the bound; past it, the stream is cancelled", async () => {
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(dec(await readBounded(null, 0)), "");
  assert.equal(dec(await readBounded(new TextEncoder().encode("abc"), 3)), "abc");
  await assert.rejects(readBounded(new TextEncoder().encode("abcd"), 3), BodyTooLarge);
  assert.equal(dec(await readBounded(stream(["ab", "cd", "e"]), 5)), "abcde");
  const long = stream(["ab", "cd", "ef"]);
  await assert.rejects(readBounded(long, 5), /over 5 bytes/);
  assert.equal(long.cancelled, true);
});
