import assert from "node:assert/strict";
import type { HashKey } from "../lib/config/types.ts";
import type { HeaderPairs } from "../lib/core/transport.ts";
import type { PickRequest } from "../lib/balancing/types.ts";
import { cookieHeader, cookieValue, requestKey } from "../lib/balancing/request_key.ts";

/**
 * The request a strategy sees; headers given as `Headers` become the pairs a
 * front hands the core, pairs are taken as they are.
 */
function src(
  overrides: Partial<Omit<PickRequest, "headers">> & { headers?: Headers | HeaderPairs } = {},
): PickRequest {
  const { headers = new Headers(), ...rest } = overrides;
  return {
    clientIp: "192.0.2.7",
    path: "/",
    ...rest,
    headers: Array.isArray(headers) ? headers : [...headers],
  };
}

// --- requestKey -------------------------------------------------------------

Deno.test("requestKey client-ip: the client's address", () => {
  assert.equal(requestKey({ kind: "client-ip" }, src()), "192.0.2.7");
  assert.equal(requestKey({ kind: "client-ip" }, src({ clientIp: "2001:db8::1" })), "2001:db8::1");
});

Deno.test("requestKey path: the path without its query", () => {
  const key = (path: string) => requestKey({ kind: "path" }, src({ path }));
  assert.equal(key("/a/b"), "/a/b");
  assert.equal(key("/a/b?c=1&d=2"), "/a/b");
  assert.equal(key("/?x"), "/");
  assert.equal(key("/a?b?c"), "/a");
  assert.equal(key("/a?"), "/a");
  assert.equal(key("/"), "/");
});

Deno.test("requestKey header: the header's value, by case-insensitive name", () => {
  const spec: HashKey = { kind: "header", name: "x-user" };
  const headers = new Headers({ "X-User": "alice" });
  assert.equal(requestKey(spec, src({ headers })), "alice");
  assert.equal(requestKey({ kind: "header", name: "X-USER" }, src({ headers })), "alice");
});

Deno.test("requestKey header: a missing header gives undefined", () => {
  const spec: HashKey = { kind: "header", name: "x-user" };
  assert.equal(requestKey(spec, src()), undefined);
  assert.equal(requestKey(spec, src({ headers: new Headers({ "x-other": "1" }) })), undefined);
});

Deno.test("requestKey header: an empty header is a key, not a missing one", () => {
  const spec: HashKey = { kind: "header", name: "x-user" };
  assert.equal(requestKey(spec, src({ headers: new Headers({ "x-user": "" }) })), "");
});

Deno.test("requestKey cookie: the named cookie's value", () => {
  const spec: HashKey = { kind: "cookie", name: "session" };
  const headers = new Headers({ cookie: "theme=dark; session=abc123; lang=en" });
  assert.equal(requestKey(spec, src({ headers })), "abc123");
});

Deno.test("requestKey cookie: quotes around the value are removed", () => {
  const spec: HashKey = { kind: "cookie", name: "session" };
  const headers = new Headers({ cookie: 'session="abc123"' });
  assert.equal(requestKey(spec, src({ headers })), "abc123");
});

Deno.test("requestKey cookie: found in any of several Cookie fields (HTTP/2)", () => {
  const spec: HashKey = { kind: "cookie", name: "session" };
  const headers: HeaderPairs = [["cookie", "theme=dark"], ["x", "y"], ["cookie", "session=abc"]];
  assert.equal(requestKey(spec, src({ headers })), "abc");
  // The first field wins when both name it, as in one joined header.
  headers.unshift(["cookie", "session=first"]);
  assert.equal(requestKey(spec, src({ headers })), "first");
});

Deno.test("requestKey cookie: no Cookie header or no such cookie gives undefined", () => {
  const spec: HashKey = { kind: "cookie", name: "session" };
  assert.equal(requestKey(spec, src()), undefined);
  assert.equal(
    requestKey(spec, src({ headers: new Headers({ cookie: "theme=dark" }) })),
    undefined,
  );
});

Deno.test("requestKey header: the first of repeated fields", () => {
  const spec: HashKey = { kind: "header", name: "x-user" };
  assert.equal(requestKey(spec, src({ headers: [["x-user", "a"], ["x-user", "b"]] })), "a");
});

// --- cookieHeader -----------------------------------------------------------

Deno.test("cookieHeader: null without a Cookie field", () => {
  assert.equal(cookieHeader([]), null);
  assert.equal(cookieHeader([["host", "a"], ["set-cookie", "a=1"]]), null);
});

Deno.test("cookieHeader: one field as it is, several joined with '; ' in order", () => {
  assert.equal(cookieHeader([["cookie", "a=1; b=2"]]), "a=1; b=2");
  assert.equal(
    cookieHeader([["cookie", "a=1"], ["host", "h"], ["cookie", "b=2"], ["cookie", "c=3"]]),
    "a=1; b=2; c=3",
  );
  assert.equal(cookieHeader([["cookie", ""]]), "");
});

// --- cookieValue ------------------------------------------------------------

Deno.test("cookieValue: no header or an empty one gives undefined", () => {
  assert.equal(cookieValue(null, "a"), undefined);
  assert.equal(cookieValue("", "a"), undefined);
});

Deno.test("cookieValue: finds a cookie anywhere in the list", () => {
  const header = "a=1; b=2; c=3";
  assert.equal(cookieValue(header, "a"), "1");
  assert.equal(cookieValue(header, "b"), "2");
  assert.equal(cookieValue(header, "c"), "3");
  assert.equal(cookieValue(header, "d"), undefined);
});

Deno.test("cookieValue: spaces around names, values and separators are ignored", () => {
  assert.equal(cookieValue("a=1;b=2", "b"), "2");
  assert.equal(cookieValue("  a = 1 ;   b=2  ", "a"), "1");
  assert.equal(cookieValue("  a = 1 ;   b=2  ", "b"), "2");
  assert.equal(cookieValue("a=1;\tb=2", "b"), "2");
});

Deno.test("cookieValue: `=` inside a value is part of the value", () => {
  assert.equal(cookieValue("tok=YWJj==; x=1", "tok"), "YWJj==");
  assert.equal(cookieValue("q=a=b=c", "q"), "a=b=c");
});

Deno.test("cookieValue: a name that is a prefix or suffix of another doesn't match it", () => {
  const header = "session_id=long; sess=short; xsession=other";
  assert.equal(cookieValue(header, "sess"), "short");
  assert.equal(cookieValue(header, "session"), undefined);
  assert.equal(cookieValue(header, "session_id"), "long");
  assert.equal(cookieValue("session_id=long", "session"), undefined);
  assert.equal(cookieValue("sess=short", "session"), undefined);
});

Deno.test("cookieValue: names are case-sensitive", () => {
  assert.equal(cookieValue("Session=1", "session"), undefined);
  assert.equal(cookieValue("Session=1", "Session"), "1");
});

Deno.test("cookieValue: the first of repeated names wins", () => {
  assert.equal(cookieValue("a=1; a=2", "a"), "1");
});

Deno.test("cookieValue: an empty value is a value", () => {
  assert.equal(cookieValue("a=; b=2", "a"), "");
});

Deno.test("cookieValue: one pair of surrounding double quotes is removed (RFC 6265 §4.1.1)", () => {
  assert.equal(cookieValue('a="xyz"', "a"), "xyz");
  assert.equal(cookieValue('a=""; b=2', "a"), "");
  assert.equal(cookieValue('a=""x""', "a"), '"x"');
  assert.equal(cookieValue('a="', "a"), '"', "a lone quote is the value");
  assert.equal(cookieValue('a="x', "a"), '"x', "unbalanced: kept");
  assert.equal(cookieValue('a=x"', "a"), 'x"', "unbalanced: kept");
  assert.equal(cookieValue('a=  "x"  ; b=2', "a"), "x", "spaces go first");
});

Deno.test("cookieValue: parts without `=` are skipped", () => {
  assert.equal(cookieValue("flag; a=1", "a"), "1");
  assert.equal(cookieValue("a; b=2", "a"), undefined);
  assert.equal(cookieValue(";;a=1;;", "a"), "1");
});
