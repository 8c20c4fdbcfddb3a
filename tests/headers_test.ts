import assert from "node:assert/strict";
import { parseCidr } from "../lib/core/cidr.ts";
import type { Cidr } from "../lib/core/cidr.ts";
import {
  type ClientInfo,
  clientResponseHeaders,
  forwardedElement,
  type HeaderPairs,
  headerPairs,
  headerValue,
  stripHopByHop,
  upstreamRequestHeaders,
  VIA_PSEUDONYM,
} from "../lib/proxy/headers.ts";

/** Strips pairs (names lower-cased as the parsers deliver them) and views the result as Headers. */
function stripped(init: [string, string][]): Headers {
  return new Headers(stripHopByHop(init.map(([k, v]) => [k.toLowerCase(), v])));
}

/** The request headers the proxy would send upstream, viewed as Headers. */
function forwardedFor(h: Headers, client: ClientInfo, trusted: readonly Cidr[]): Headers {
  return new Headers(upstreamRequestHeaders([...h], client, trusted));
}

// --- stripHopByHop ----------------------------------------------------------

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "trailer",
];

for (const name of HOP_BY_HOP) {
  Deno.test(`stripHopByHop removes ${name}`, () => {
    const h = stripped([[name, "gzip"], ["content-type", "text/plain"]]);
    assert.equal(h.has(name), false);
    assert.equal(h.get("content-type"), "text/plain");
  });
}

Deno.test("stripHopByHop removes every header named in Connection, case-insensitively", () => {
  const h = stripped([
    ["connection", "close, X-Private ,x-other,,  "],
    ["x-private", "1"],
    ["X-Other", "2"],
    ["x-public", "3"],
  ]);
  assert.deepEqual([...h], [["x-public", "3"]]);
});

Deno.test("stripHopByHop reads every Connection header line", () => {
  const pairs: HeaderPairs = [
    ["connection", "x-a"],
    ["connection", "x-b"],
    ["x-a", "1"],
    ["x-b", "2"],
    ["x-c", "3"],
  ];
  assert.deepEqual(stripHopByHop(pairs), [["x-c", "3"]]);
});

Deno.test("stripHopByHop skips Connection tokens that are not field names without throwing", () => {
  const h = stripped([["connection", 'x-a, "quoted", a b, x-b'], ["x-a", "1"], ["x-b", "2"]]);
  assert.deepEqual([...h], []);
});

Deno.test("stripHopByHop keeps end-to-end headers", () => {
  const h = stripped([
    ["content-type", "application/json"],
    ["content-length", "12"],
    ["cache-control", "no-store"],
    ["authorization", "Bearer x"],
    ["x-request-id", "abc"],
    ["host", "example.com"],
    ["set-cookie", "a=1; Path=/"],
    ["set-cookie", "b=2, c; Expires=Wed, 21 Oct 2015 07:28:00 GMT"],
  ]);
  assert.equal(h.get("content-type"), "application/json");
  assert.equal(h.get("content-length"), "12");
  assert.equal(h.get("cache-control"), "no-store");
  assert.equal(h.get("authorization"), "Bearer x");
  assert.equal(h.get("x-request-id"), "abc");
  assert.equal(h.get("host"), "example.com");
  assert.deepEqual(h.getSetCookie(), [
    "a=1; Path=/",
    "b=2, c; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
  ]);
});

const TE_CASES: [string, string | null][] = [
  ["trailers", "trailers"],
  ["Trailers", "trailers"],
  ["gzip, trailers", "trailers"],
  ["trailers;q=0.5", null], // not the bare `trailers` token
  ["gzip", null],
  ["deflate, gzip;q=0.5", null],
];

for (const [te, expected] of TE_CASES) {
  Deno.test(`stripHopByHop: TE ${JSON.stringify(te)} → ${expected ?? "removed"}`, () => {
    assert.equal(stripped([["te", te]]).get("te"), expected);
  });
}

// Regression test for a fixed bug (lib/proxy/headers.ts:39-45): RFC 9110 §10.1.4 requires a sender of TE
// to also send a `TE` connection option, so a compliant client sends
// `Connection: TE` with `TE: trailers`. The Connection-listed fields are
// deleted (line 42) before TE is read (line 45), so in exactly that case the
// `te: trailers` the doc comment promises to keep is dropped. Go's
// ReverseProxy reads TE from the original headers for this reason.
// Expected te = "trailers"; actual: te absent.
Deno.test({
  name: "stripHopByHop keeps `te: trailers` when Connection lists TE",
  fn() {
    const h = stripped([["connection", "TE"], ["te", "trailers"]]);
    assert.equal(h.get("te"), "trailers");
  },
});

// --- upstreamRequestHeaders ------------------------------------------------

const CLIENT: ClientInfo = { ip: "203.0.113.7", proto: "http", host: "example.com" };

/** Client-sent forwarding headers, as a proxy in front of us would set them (or a forger). */
function claimed(): Headers {
  return new Headers({
    "x-forwarded-for": "198.51.100.1",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "claimed.example",
    "forwarded": "for=198.51.100.1;proto=https",
    "via": "1.0 edge",
  });
}

Deno.test("upstreamRequestHeaders: no prior headers", () => {
  const h = forwardedFor(new Headers(), CLIENT, []);
  assert.deepEqual(Object.fromEntries(h), {
    host: "example.com",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "http",
    "x-forwarded-host": "example.com",
    "forwarded": "for=203.0.113.7;host=example.com;proto=http",
    "via": "1.1 deno-lb",
  });
});

Deno.test("upstreamRequestHeaders: an untrusted peer's claims are dropped and replaced", () => {
  const h = forwardedFor(claimed(), CLIENT, [parseCidr("10.0.0.0/8")!]);
  assert.equal(h.get("x-forwarded-for"), "203.0.113.7");
  assert.equal(h.get("x-forwarded-proto"), "http");
  assert.equal(h.get("x-forwarded-host"), "example.com");
  assert.equal(h.get("forwarded"), "for=203.0.113.7;host=example.com;proto=http");
});

Deno.test("upstreamRequestHeaders: every X-Forwarded-* and X-Real-IP of an untrusted peer is dropped", () => {
  const claims = new Headers({
    "x-forwarded-port": "8443",
    "x-forwarded-prefix": "/admin",
    "x-forwarded-server": "evil",
    "x-real-ip": "10.0.0.1",
    "x-request-start": "t=1",
  });
  const h = forwardedFor(claims, CLIENT, []);
  for (
    const name of ["x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-real-ip"]
  ) {
    assert.equal(h.get(name), null, name);
  }
  assert.equal(h.get("x-request-start"), "t=1");
  // From a trusted peer they pass unchanged.
  const trusted = forwardedFor(claims, { ...CLIENT, ip: "10.1.2.3" }, [parseCidr("10.0.0.0/8")!]);
  assert.equal(trusted.get("x-forwarded-port"), "8443");
  assert.equal(trusted.get("x-real-ip"), "10.0.0.1");
});

Deno.test("upstreamRequestHeaders: with no trusted ranges every peer is untrusted", () => {
  const h = forwardedFor(claimed(), { ...CLIENT, ip: "127.0.0.1" }, []);
  assert.equal(h.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(h.get("x-forwarded-proto"), "http");
});

Deno.test("upstreamRequestHeaders: a trusted peer's claims are kept and extended", () => {
  const h = forwardedFor(claimed(), { ...CLIENT, ip: "10.1.2.3" }, [parseCidr("10.0.0.0/8")!]);
  assert.equal(h.get("x-forwarded-for"), "198.51.100.1, 10.1.2.3");
  assert.equal(h.get("x-forwarded-proto"), "https");
  assert.equal(h.get("x-forwarded-host"), "claimed.example");
  assert.equal(
    h.get("forwarded"),
    "for=198.51.100.1;proto=https, for=10.1.2.3;host=example.com;proto=http",
  );
});

Deno.test("upstreamRequestHeaders: a trusted IPv6 peer matches an IPv6 range", () => {
  const h = forwardedFor(claimed(), { ...CLIENT, ip: "::1" }, [parseCidr("::1")!]);
  assert.equal(h.get("x-forwarded-for"), "198.51.100.1, ::1");
});

Deno.test("upstreamRequestHeaders: a trusted peer without prior headers gets fresh ones", () => {
  const h = forwardedFor(new Headers(), { ...CLIENT, ip: "10.1.2.3" }, [parseCidr("10.0.0.0/8")!]);
  assert.equal(h.get("x-forwarded-for"), "10.1.2.3");
  assert.equal(h.get("x-forwarded-proto"), "http");
  assert.equal(h.get("x-forwarded-host"), "example.com");
});

Deno.test("upstreamRequestHeaders: Via is appended after an existing Via, whoever the peer is", () => {
  for (const trusted of [[], [parseCidr("0.0.0.0/0")!]]) {
    const h = forwardedFor(claimed(), CLIENT, trusted);
    assert.equal(h.get("via"), "1.0 edge, 1.1 deno-lb");
  }
});

Deno.test("upstreamRequestHeaders: an IPv6 client is bracketed and quoted in Forwarded", () => {
  const h = forwardedFor(new Headers(), { ...CLIENT, ip: "::1" }, []);
  assert.equal(h.get("x-forwarded-for"), "::1");
  assert.equal(h.get("forwarded"), 'for="[::1]";host=example.com;proto=http');
});

const ELEMENTS: [ClientInfo, string][] = [
  [CLIENT, "for=203.0.113.7;host=example.com;proto=http"],
  [{ ...CLIENT, proto: "https" }, "for=203.0.113.7;host=example.com;proto=https"],
  [{ ...CLIENT, host: "example.com:8080" }, 'for=203.0.113.7;host="example.com:8080";proto=http'],
  [{ ...CLIENT, host: "[::1]:8080" }, 'for=203.0.113.7;host="[::1]:8080";proto=http'],
  [{ ...CLIENT, host: 'a"b\\c' }, 'for=203.0.113.7;host="a\\"b\\\\c";proto=http'],
  [{ ...CLIENT, host: "Example.COM" }, "for=203.0.113.7;host=Example.COM;proto=http"],
  [{ ...CLIENT, ip: "2001:db8::1" }, 'for="[2001:db8::1]";host=example.com;proto=http'],
];

for (const [client, element] of ELEMENTS) {
  Deno.test(`forwardedElement → ${element}`, () => {
    assert.equal(forwardedElement(client), element);
  });
}

Deno.test("clientResponseHeaders strips hop-by-hop fields and adds this proxy to Via", () => {
  const out = clientResponseHeaders([
    ["connection", "keep-alive, x-secret"],
    ["x-secret", "1"],
    ["via", "1.0 origin"],
    ["content-type", "text/plain"],
  ]);
  assert.equal(VIA_PSEUDONYM, "deno-lb");
  assert.equal(headerValue(out, "x-secret"), undefined);
  assert.equal(new Headers(out).get("via"), "1.0 origin, 1.1 deno-lb");
  assert.equal(headerValue(out, "content-type"), "text/plain");
});

Deno.test("upstreamRequestHeaders drops hop-by-hop fields and keeps Host", () => {
  const h = new Headers({
    host: "example.com",
    connection: "x-private",
    "x-private": "1",
    "keep-alive": "5",
    te: "trailers",
    accept: "*/*",
  });
  const out = new Headers(upstreamRequestHeaders([...h], CLIENT, []));
  assert.equal(out.get("host"), "example.com");
  assert.equal(out.get("x-private"), null);
  assert.equal(out.get("keep-alive"), null);
  assert.equal(out.get("connection"), null);
  assert.equal(out.get("te"), "trailers");
  assert.equal(out.get("accept"), "*/*");
});

Deno.test("headerPairs: cookies Headers joined with ', ' (HTTP/2 sends each as a field) read as one Cookie", () => {
  const h = new Headers();
  h.append("cookie", "a=1");
  h.append("cookie", "session=abc; b=2");
  h.append("accept", "text/html");
  h.append("accept", "application/json");
  assert.deepEqual(headerPairs(h), [
    ["accept", "text/html, application/json"],
    ["cookie", "a=1; session=abc; b=2"],
  ]);
});
