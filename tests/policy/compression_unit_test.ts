/**
 * The compression policy's pure parts: `Accept-Encoding` negotiation
 * (RFC 9110 §12.5.3) on fixed vectors, which replies may be compressed,
 * the fields of a compressed or merely varied reply, and the config's
 * defaults and errors.
 */

import assert from "node:assert/strict";
import {
  negotiateEncoding,
  NegotiationCache,
  parseAcceptEncoding,
} from "../../lib/policy/encoding_negotiation.ts";
import {
  eligible,
  encodedHeaders,
  noTransform,
  TypeMatcher,
  varyWithAcceptEncoding,
  weakEtag,
  withVary,
} from "../../lib/policy/compress_rules.ts";
import { COMPRESSION_DEFAULTS, DEFAULT_TYPES } from "../../lib/config/policies/compression.ts";
import type { ContentCoding } from "../../lib/config/policies/types.ts";
import type { ProxyReply } from "../../lib/core/message.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import { parseConfig } from "../../mod.ts";

const ALL: ContentCoding[] = ["br", "zstd", "gzip"];

Deno.test("negotiateEncoding: q-values, *, identity, refusals and the server's order on ties", () => {
  const vectors: [string | undefined, ContentCoding[], ContentCoding | undefined][] = [
    // No field: plain (the RFC allows anything; clients that decode say so).
    [undefined, ALL, undefined],
    // An empty field: identity only.
    ["", ALL, undefined],
    ["gzip", ALL, "gzip"],
    // What browsers send: all weigh 1, so the server's order decides.
    ["gzip, deflate, br, zstd", ALL, "br"],
    ["gzip, deflate, br, zstd", ["gzip", "br"], "gzip"],
    ["gzip, zstd", ALL, "zstd"],
    // The heaviest wins over the server's order.
    ["br;q=0.5, gzip", ALL, "gzip"],
    ["br; q=0.8, gzip; q=0.9", ALL, "gzip"],
    ["br;q=0.9, zstd;q=0.9, gzip;q=0.9", ALL, "br"],
    // q=0 refuses.
    ["br;q=0, gzip;q=0", ALL, undefined],
    ["br;q=0, gzip", ALL, "gzip"],
    // * stands for every coding not listed.
    ["*", ALL, "br"],
    ["*, br;q=0", ALL, "zstd"],
    ["*;q=0.5, gzip;q=0.6", ALL, "gzip"],
    ["*;q=0", ALL, undefined],
    // identity competes only when listed.
    ["identity", ALL, undefined],
    ["gzip;q=0.5", ALL, "gzip"],
    ["identity, gzip;q=0.5", ALL, undefined],
    ["identity;q=0.5, gzip;q=0.5", ALL, "gzip"],
    ["identity;q=0, gzip", ALL, "gzip"],
    // Case, x-gzip (RFC 9110 §8.4.1.3), other parameters, empty elements.
    ["GZIP;Q=1.000", ALL, "gzip"],
    ["x-gzip", ALL, "gzip"],
    ["gzip;level=1", ALL, "gzip"],
    [" , gzip ,, ", ALL, "gzip"],
    // A malformed weight drops its element.
    ["gzip;q=1.5", ALL, undefined],
    ["gzip;q=0.0001", ALL, undefined],
    ["gzip;q=", ALL, undefined],
    ["br;q=x, gzip", ALL, "gzip"],
    // Listed twice: the lowest weight (a refusal wins).
    ["gzip;q=0, gzip", ALL, undefined],
    // Codings this lb doesn't offer.
    ["deflate, compress", ALL, undefined],
    ["br", ["gzip"], undefined],
  ];
  for (const [value, offered, expected] of vectors) {
    assert.equal(negotiateEncoding(value, offered), expected, `${value} of ${offered}`);
  }
  assert.deepEqual(
    [...parseAcceptEncoding("gzip;q=0.8, br, *;q=0.1, x-gzip;q=0.9")],
    [["gzip", 0.8], ["br", 1], ["*", 0.1]],
  );
});

Deno.test("NegotiationCache: the same answers, remembered, and bounded by starting again", () => {
  const cache = new NegotiationCache(ALL);
  assert.equal(cache.choose(undefined), undefined);
  for (let round = 0; round < 2; round++) {
    assert.equal(cache.choose("gzip, br"), "br");
    assert.equal(cache.choose("identity"), undefined);
    assert.equal(cache.choose("gzip;q=1, br;q=0.1"), "gzip");
  }
  // Many distinct values (a client making them up): answers stay right.
  for (let i = 0; i < 1000; i++) {
    assert.equal(cache.choose(`gzip;q=0.${i % 10}, x-${i}`), i % 10 === 0 ? undefined : "gzip");
  }
  assert.equal(cache.choose("zstd"), "zstd");
});

const types = new TypeMatcher(DEFAULT_TYPES);
const body = new Uint8Array(2048);

function reply(headers: HeaderPairs, over: Partial<ProxyReply> = {}): ProxyReply {
  return { status: 200, headers, body, ...over };
}

Deno.test("TypeMatcher: exact types and type/* wildcards, parameters and case ignored, never SSE", () => {
  const m = new TypeMatcher(["text/*", "application/json"]);
  assert.equal(m.matches("text/plain"), true);
  assert.equal(m.matches("Text/HTML; charset=UTF-8"), true);
  assert.equal(m.matches("application/json;charset=utf-8"), true);
  assert.equal(m.matches("application/javascript"), false);
  assert.equal(m.matches("image/png"), false);
  assert.equal(m.matches("text/event-stream"), false);
  assert.equal(m.matches("text/event-stream; charset=utf-8"), false);
  assert.equal(m.matches(""), false);
  assert.equal(m.matches("text"), false);
  assert.equal(types.matches("image/svg+xml"), true);
  assert.equal(types.matches("text/event-stream"), false);
});

Deno.test("eligible: statuses, encodings, ranges, no-transform, types and sizes", () => {
  const html: HeaderPairs = [["content-type", "text/html"]];
  const yes = (r: ProxyReply, method = "GET", min = 1024) => eligible(r, method, types, min);
  assert.equal(yes(reply(html)), true);
  assert.equal(yes(reply(html, { status: 404 })), true);
  assert.equal(yes(reply(html, { status: 503 })), true);
  for (const status of [100, 101, 204, 206, 304]) {
    assert.equal(yes(reply(html, { status })), false, `status ${status}`);
  }
  assert.equal(yes(reply([...html, ["content-range", "bytes 0-99/2048"]])), false);
  assert.equal(yes(reply([...html, ["content-encoding", "gzip"]])), false);
  assert.equal(yes(reply([...html, ["content-encoding", "br"]])), false);
  assert.equal(yes(reply([...html, ["content-encoding", "Identity"]])), true);
  assert.equal(yes(reply([...html, ["cache-control", "public, No-Transform"]])), false);
  assert.equal(yes(reply([...html, ["cache-control", "no-transformed, max-age=5"]])), true);
  assert.equal(yes(reply([["content-type", "text/event-stream"]])), false);
  assert.equal(yes(reply([["content-type", "image/png"]])), false);
  assert.equal(yes(reply([])), false);
  // Sizes: bytes in hand, Content-Length, or unknown (a stream without one).
  assert.equal(yes(reply(html, { body: new Uint8Array(1023) })), false);
  assert.equal(yes(reply(html, { body: new Uint8Array(1024) })), true);
  assert.equal(yes(reply(html, { body: new Uint8Array(0) }), "GET", 0), false);
  assert.equal(yes(reply(html, { body: new Uint8Array(1) }), "GET", 0), true);
  const stream = new ReadableStream<Uint8Array>();
  assert.equal(yes(reply([...html, ["content-length", "100"]], { body: stream })), false);
  assert.equal(yes(reply([...html, ["content-length", "5000"]], { body: stream })), true);
  assert.equal(yes(reply(html, { body: stream })), true);
  // No body: only HEAD, whose fields still describe the GET's.
  assert.equal(yes(reply(html, { body: null })), false);
  assert.equal(yes(reply(html, { body: null }), "HEAD"), true);
  assert.equal(yes(reply([...html, ["content-length", "10"]], { body: null }), "HEAD"), false);
});

Deno.test("noTransform: the directive alone, any case, among others", () => {
  assert.equal(noTransform("no-transform"), true);
  assert.equal(noTransform("max-age=60, NO-TRANSFORM"), true);
  assert.equal(noTransform("no-transform , private"), true);
  assert.equal(noTransform("no-store"), false);
  assert.equal(noTransform('x="no-transform-ish"'), false);
});

Deno.test("encodedHeaders: Content-Encoding, Vary merged, ETag weakened, length, ranges and digests gone", () => {
  const out = encodedHeaders([
    ["content-type", "text/html"],
    ["content-length", "2048"],
    ["etag", '"v1"'],
    ["accept-ranges", "bytes"],
    ["vary", "Origin"],
    ["content-digest", "sha-256=:abc=:"],
    ["repr-digest", "sha-256=:abc=:"],
    ["content-md5", "xyz"],
    ["vary", "Cookie"],
    ["content-encoding", "identity"],
    ["x-other", "kept"],
  ], "br");
  assert.deepEqual(out, [
    ["content-type", "text/html"],
    ["etag", 'W/"v1"'],
    ["x-other", "kept"],
    ["content-encoding", "br"],
    ["vary", "Origin, Cookie, Accept-Encoding"],
  ]);
  assert.deepEqual(encodedHeaders([["etag", 'W/"v1"'], ["vary", "*"]], "gzip"), [
    ["etag", 'W/"v1"'],
    ["content-encoding", "gzip"],
    ["vary", "*"],
  ]);
  assert.equal(weakEtag('"a"'), 'W/"a"');
  assert.equal(weakEtag('W/"a"'), 'W/"a"');
  assert.equal(weakEtag("unquoted"), undefined);
});

Deno.test("withVary: added, merged into one field, or the same list when it varies already", () => {
  const plain: HeaderPairs = [["content-type", "text/html"]];
  assert.deepEqual(withVary(plain), [["content-type", "text/html"], ["vary", "Accept-Encoding"]]);
  assert.deepEqual(plain, [["content-type", "text/html"]], "not changed in place");
  const has: HeaderPairs = [["vary", "Origin, accept-encoding"]];
  assert.equal(withVary(has), has);
  const star: HeaderPairs = [["vary", "*"]];
  assert.equal(withVary(star), star);
  assert.deepEqual(withVary([["vary", "Origin"], ["x", "1"], ["vary", "Cookie"]]), [
    ["x", "1"],
    ["vary", "Origin, Cookie, Accept-Encoding"],
  ]);
  assert.equal(varyWithAcceptEncoding(undefined), "Accept-Encoding");
  assert.equal(varyWithAcceptEncoding(" "), "Accept-Encoding");
});

function compressionOf(policies: Record<string, unknown>, route?: unknown) {
  const config = parseConfig({
    backends: ["http://127.0.0.1:1"],
    routes: [{ name: "web", match: {}, pool: "default", policies: { compression: route } }],
    policies,
  });
  return config.routes[0].policies?.compression;
}

function problems(value: unknown, where: "route" | "defaults" = "route"): string {
  try {
    if (where === "route") compressionOf({}, value);
    else compressionOf({ compression: value });
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

Deno.test("config: true is the defaults; an object changes some, lists may be one string", () => {
  assert.deepEqual(compressionOf({ compression: true }), COMPRESSION_DEFAULTS);
  assert.deepEqual(COMPRESSION_DEFAULTS.encodings, ["zstd", "br", "gzip"]);
  assert.equal(COMPRESSION_DEFAULTS.minBytes, 1024);
  assert.deepEqual(COMPRESSION_DEFAULTS.levels, { gzip: 5, br: 4, zstd: 3 });
  const c = compressionOf({}, {
    encodings: "GZIP",
    types: ["text/*", "Application/JSON", "text/*"],
    "min-size": "2KiB",
    level: { br: 6 },
    "max-streams": 8,
  })!;
  assert.deepEqual(c.encodings, ["gzip"]);
  assert.deepEqual(c.types, ["text/*", "application/json"]);
  assert.equal(c.minBytes, 2048);
  assert.deepEqual(c.levels, { gzip: 5, br: 6, zstd: 3 });
  assert.equal(c.maxStreams, 8);
  assert.equal(compressionOf({}, { "min-size": 0 })!.minBytes, 0);
  // The bench's form.
  assert.deepEqual(
    compressionOf({ compression: { types: ["text/*", "application/json"], "min-size": 1024 } })!
      .types,
    ["text/*", "application/json"],
  );
  // A route turns the default off.
  assert.equal(compressionOf({ compression: true }, false), undefined);
});

Deno.test("config: bad values are errors naming the key", () => {
  const at = "routes\\[0\\]\\.policies\\.compression";
  const cases: [unknown, RegExp][] = [
    [{ encodings: ["deflate"] }, /encodings\[0\]: "deflate" is not a coding this lb applies/],
    [{ encodings: ["gzip", "br", "gzip"] }, /encodings\[2\]: "gzip" is listed twice/],
    [{ encodings: [] }, /encodings: needs at least one coding/],
    [{ types: ["text/html; charset=utf-8"] }, /types\[0\]: .*without parameters/],
    [{ types: ["text/html", "*/*"] }, /types\[1\]: "\*\/\*": name the types/],
    [{ types: ["html"] }, /types\[0\]: "html" is not a media type/],
    [{ types: ["text/*", "text/event-stream"] }, /types\[1\]: text\/event-stream is never/],
    [{ "min-size": "big" }, /min-size: "big" is not a size/],
    [{ "min-size": -1 }, /min-size/],
    [{ level: { br: 12 } }, /level\.br: must be at most 11/],
    [{ level: { gzip: 0 } }, /level\.gzip: must be at least 1/],
    [{ level: { deflate: 1 } }, /level\.deflate: unknown setting/],
    [{ "max-streams": 0 }, /max-streams: must be at least 1/],
    [{ gzip: true }, /compression\.gzip: unknown setting/],
    ["yes", /compression/],
  ];
  for (const [value, re] of cases) {
    const message = problems(value);
    assert.match(message, new RegExp(`${at}\\.?`), JSON.stringify(value));
    assert.match(message, re, `${JSON.stringify(value)}: ${message}`);
  }
  assert.match(problems({ types: ["nope"] }, "defaults"), /policies\.compression\.types\[0\]/);
  assert.equal(problems(true), "");
});
