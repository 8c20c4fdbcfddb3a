/**
 * Request head parsing (lib/front/h1/request_head.ts) on fixed vectors: one
 * test per rule, with heads that must parse (and what they parse to) and
 * heads that must be refused (and with which status): finding the end of a
 * head and its limits, the request line and target forms (RFC 9112 §3), field
 * lines (§5), Host (§3.2), framing (§6) and connection options (§9.3, RFC
 * 9110 §7.8, §10.1.1).
 */

import assert from "node:assert/strict";
import {
  findRequestHeadEnd,
  MAX_REQUEST_FIELDS,
  MAX_REQUEST_HEAD_BYTES,
  MAX_TARGET_BYTES,
  parseRequestHead,
  RequestError,
  type RequestHead,
} from "../lib/front/h1/request_head.ts";
import { BAD_CONTENT_LENGTHS, BAD_FIELD_LINES, latin1Bytes } from "./_h1.ts";

/** Request line and field lines joined with CRLF, terminator added. */
function headText(requestLine: string, ...fields: string[]): string {
  return [requestLine, ...fields, "", ""].join("\r\n");
}

/** findRequestHeadEnd over the whole of a latin1 string. */
function headEnd(text: string): number {
  const b = latin1Bytes(text);
  return findRequestHeadEnd(b, 0, b.length);
}

/** Finds the end of `text` (which must be exactly one head) and parses it. */
function read(text: string): RequestHead {
  const b = latin1Bytes(text);
  assert.equal(findRequestHeadEnd(b, 0, b.length), b.length, "the head ends where the text does");
  return parseRequestHead(b, 0, b.length);
}

/** Parses a head given as a request line and field lines. */
function parse(requestLine: string, ...fields: string[]): RequestHead {
  return read(headText(requestLine, ...fields));
}

/** The status of the RequestError that `fn` throws; fails when it throws nothing or something else. */
function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RequestError, `not a RequestError: ${err}`);
    return err.status;
  }
  assert.fail("accepted");
}

/** The status a head given as lines is refused with. */
function refused(requestLine: string, ...fields: string[]): number {
  return statusOf(() => parse(requestLine, ...fields));
}

/** Asserts that every case (what, request line, fields) is refused with `status`. */
function assertRefused(status: number, cases: readonly [string, string, ...string[]][]): void {
  for (const [what, line, ...fields] of cases) assert.equal(refused(line, ...fields), status, what);
}

const GET = "GET / HTTP/1.1";
const HOST = "Host: example.com";

Deno.test("RequestError: a named Error carrying the status", () => {
  const err = new RequestError(431, "too big");
  assert.ok(err instanceof Error);
  assert.equal(err.name, "RequestError");
  assert.equal(err.status, 431);
  assert.equal(err.message, "too big");
});

Deno.test("findRequestHeadEnd: index past the empty line, -1 until it has arrived", () => {
  const head = headText(GET, HOST);
  assert.equal(headEnd(head), head.length);
  assert.equal(headEnd(head + "body\n\n\0"), head.length, "bytes after the head are not looked at");
  assert.equal(headEnd(head + headText(GET, HOST)), head.length, "a pipelined request");
  assert.equal(headEnd(head.slice(0, -1)), -1);
  assert.equal(headEnd(head.slice(0, -2)), -1);
  assert.equal(headEnd(""), -1);
  assert.equal(headEnd("GET / HTTP/1.1\r\n\r\n"), 18, "no fields");
  // Offsets: an earlier request was consumed; `end` short of the terminator.
  const b = latin1Bytes(head + head);
  assert.equal(findRequestHeadEnd(b, head.length, b.length), b.length);
  assert.equal(findRequestHeadEnd(b, head.length, b.length - 1), -1);
  // An LF at `start` is bare even if a CR sits just before it in the buffer.
  const c = latin1Bytes("\r\nGET / HTTP/1.1\r\n\r\n");
  assert.equal(statusOf(() => findRequestHeadEnd(c, 1, c.length)), 400);
});

Deno.test("leading empty lines before the request line are part of the head (RFC 9112 §2.2)", () => {
  for (const lead of ["\r\n", "\r\n\r\n", "\r\n".repeat(50)]) {
    const text = lead + headText(GET, HOST);
    assert.equal(headEnd(text), text.length, JSON.stringify(lead));
    const head = read(text);
    assert.equal(head.method, "GET");
    assert.deepEqual(head.fields, [["host", "example.com"]]);
  }
  // Only empty lines so far: keep reading.
  assert.equal(headEnd("\r\n\r\n\r\n"), -1);
  assert.equal(headEnd("\r\n\r"), -1);
  // A leading line that is not empty is the request line, and an invalid one.
  assert.equal(statusOf(() => headEnd("\n" + headText(GET, HOST))), 400);
  assert.equal(statusOf(() => headEnd("\r\r\n" + headText(GET, HOST))), 400);
  assert.equal(statusOf(() => read(" \r\n" + headText(GET, HOST))), 400);
});

Deno.test("findRequestHeadEnd: a bare LF, a bare CR or a NUL is a 400 as soon as it arrives", () => {
  for (
    const text of [
      "\n",
      "GET / HTTP/1.1\n",
      "GET /\n",
      "GET / HTTP/1.1\r\nHost: a\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\n",
      "GET / HTTP/1.1\r\nHost: a\nX: b",
      "GET / HTTP/1.1\r\r\n",
      "GET / HTTP/1.1\rX",
      "GET / HTTP/1.1\r\nHost: a\rb",
      "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
      "G\0",
      "GET /\0",
      "GET / HTTP/1.1\r\nHost: a\0",
      "GET / HTTP/1.1\r\n\0",
    ]
  ) {
    assert.equal(statusOf(() => headEnd(text)), 400, JSON.stringify(text));
  }
  // A CR that is the last byte so far may still be followed by its LF.
  assert.equal(headEnd("GET / HTTP/1.1\r"), -1);
  assert.equal(headEnd("GET / HTTP/1.1\r\nHost: a\r"), -1);
});

Deno.test("findRequestHeadEnd: 431 past MAX_REQUEST_HEAD_BYTES, whether terminated or not", () => {
  const line = "X-Pad: " + "a".repeat(1000) + "\r\n";
  let text = "GET / HTTP/1.1\r\n";
  while (text.length + line.length <= MAX_REQUEST_HEAD_BYTES) text += line;
  text += "X: " + "b".repeat(MAX_REQUEST_HEAD_BYTES - text.length - 3);
  assert.equal(text.length, MAX_REQUEST_HEAD_BYTES);
  assert.equal(headEnd(text), -1, "exactly MAX_REQUEST_HEAD_BYTES: keep reading");
  assert.equal(statusOf(() => headEnd(text + "b")), 431, "one byte over");
  assert.equal(statusOf(() => headEnd(text + "b\r\n\r\n")), 431, "complete but over");
  assert.equal(statusOf(() => headEnd(text + "\r\n\r\n")), 431, "terminator past the limit");
  // Leading empty lines count.
  assert.equal(statusOf(() => headEnd("\r\n".repeat(MAX_REQUEST_HEAD_BYTES / 2 + 1))), 431);
  // A head of exactly MAX_REQUEST_HEAD_BYTES, terminator included, is fine.
  const exact = "GET / HTTP/1.1\r\nHost: a\r\nX: " + "c".repeat(MAX_REQUEST_HEAD_BYTES - 32) +
    "\r\n\r\n";
  assert.equal(exact.length, MAX_REQUEST_HEAD_BYTES);
  assert.equal(headEnd(exact), exact.length);
  assert.equal(read(exact).fields.length, 2);
  // parseRequestHead refuses an over-long range it is handed, too.
  const big = latin1Bytes(text + "b\r\n\r\n");
  assert.equal(statusOf(() => parseRequestHead(big, 0, big.length)), 431);
});

Deno.test("findRequestHeadEnd: 414 as soon as the target exceeds MAX_TARGET_BYTES", () => {
  const at = (n: number) => "GET /" + "a".repeat(n - 1);
  assert.equal(headEnd(at(MAX_TARGET_BYTES)), -1, "at the limit, line not ended");
  assert.equal(statusOf(() => headEnd(at(MAX_TARGET_BYTES + 1))), 414, "no space yet");
  assert.equal(statusOf(() => headEnd(at(MAX_TARGET_BYTES + 1) + " HTTP/1.1\r\n")), 414);
  assert.equal(statusOf(() => read(headText(at(MAX_TARGET_BYTES + 1) + " HTTP/1.1", HOST))), 414);
  assert.equal(read(headText(at(MAX_TARGET_BYTES) + " HTTP/1.1", HOST)).target.length, 8192);
  // Any byte of the target counts, valid or not, and only the target counts.
  assert.equal(statusOf(() => headEnd("GET " + "\x01".repeat(MAX_TARGET_BYTES + 1))), 414);
  const longMethod = "M".repeat(MAX_TARGET_BYTES * 2) + " / HTTP/1.1";
  assert.equal(read(headText(longMethod, HOST)).method.length, MAX_TARGET_BYTES * 2);
  const longField = "X: " + "v".repeat(MAX_TARGET_BYTES * 2);
  assert.equal(parse(GET, HOST, longField).fields[1][1].length, MAX_TARGET_BYTES * 2);
  // parseRequestHead refuses an over-long target it is handed, too.
  const b = latin1Bytes(headText(at(MAX_TARGET_BYTES + 1) + " HTTP/1.1", HOST));
  assert.equal(statusOf(() => parseRequestHead(b, 0, b.length)), 414);
});

Deno.test("parseRequestHead: a typical GET", () => {
  assert.deepEqual(
    parse(
      "GET /search?q=a%20b&x=1 HTTP/1.1",
      "Host: example.com:8080",
      "User-Agent: curl/8.5.0",
      "Accept: */*",
    ),
    {
      method: "GET",
      target: "/search?q=a%20b&x=1",
      form: "origin",
      path: "/search?q=a%20b&x=1",
      minor: 1,
      fields: [["host", "example.com:8080"], ["user-agent", "curl/8.5.0"], ["accept", "*/*"]],
      host: "example.com:8080",
      framing: { kind: "none" },
      keepAlive: true,
      expectContinue: false,
      upgrade: undefined,
    },
  );
});

Deno.test("request line: method is any token, case kept", () => {
  for (
    const method of ["GET", "POST", "get", "M-SEARCH", "PROPFIND", "X", "!#$%&'*+-.^_`|~09azAZ"]
  ) {
    assert.equal(parse(`${method} / HTTP/1.1`, HOST).method, method);
  }
});

Deno.test("request line: anything but method SP target SP version is a 400", () => {
  assertRefused(400, [
    ["empty method", " / HTTP/1.1", HOST],
    ["leading space", " GET / HTTP/1.1", HOST],
    ["two spaces after the method", "GET  / HTTP/1.1", HOST],
    ["two spaces after the target", "GET /  HTTP/1.1", HOST],
    ["trailing space", "GET / HTTP/1.1 ", HOST],
    ["tab separator", "GET\t/ HTTP/1.1", HOST],
    ["tab before the version", "GET /\tHTTP/1.1", HOST],
    ["no version (HTTP/0.9)", "GET /", HOST],
    ["no target", "GET HTTP/1.1", HOST],
    ["method only", "GET", HOST],
    ["three parts and more", "GET / x HTTP/1.1", HOST],
    ["non-tchar in the method", "GE(T / HTTP/1.1", HOST],
    ["slash in the method", "GE/T / HTTP/1.1", HOST],
    ["obs-text in the method", "G\xc9T / HTTP/1.1", HOST],
    ["control in the method", "G\x01T / HTTP/1.1", HOST],
    ["empty request line", "", HOST],
  ]);
});

Deno.test("request line: HTTP/1.0 and HTTP/1.1; another HTTP/d.d is 505, anything else 400", () => {
  assert.equal(parse("GET / HTTP/1.1", HOST).minor, 1);
  assert.equal(parse("GET / HTTP/1.0").minor, 0);
  for (const v of ["HTTP/1.2", "HTTP/1.9", "HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"]) {
    assert.equal(refused(`GET / ${v}`, HOST), 505, v);
  }
  for (
    const v of [
      "HTTP/1",
      "HTTP/2",
      "HTTP/1.10",
      "HTTP/11",
      "HTTP/1.",
      "HTTP/.1",
      "HTTP/a.b",
      "HTTP/1,1",
      "http/1.1",
      "Http/1.1",
      "HTTPS/1.1",
      "HTTP 1.1",
      "HTTP/1.1x",
      "xHTTP/1.1",
      "ICY",
      "HTTP/\xb9.1",
    ]
  ) {
    assert.equal(refused(`GET / ${v}`, HOST), 400, v);
  }
});

Deno.test("request-target: visible ASCII only, and no fragment", () => {
  let visible = "/";
  for (let c = 0x21; c <= 0x7e; c++) if (c !== 0x23) visible += String.fromCharCode(c);
  assert.equal(parse(`GET ${visible} HTTP/1.1`, HOST).path, visible);
  assertRefused(400, [
    ["fragment", "GET /a#b HTTP/1.1", HOST],
    ["fragment only", "GET /# HTTP/1.1", HOST],
    ["DEL", "GET /a\x7f HTTP/1.1", HOST],
    ["obs-text", "GET /caf\xe9 HTTP/1.1", HOST],
    ["high byte", "GET /\xff HTTP/1.1", HOST],
    ["control", "GET /a\x01b HTTP/1.1", HOST],
    ["tab", "GET /a\tb HTTP/1.1", HOST],
    ["vertical tab", "GET /a\x0bb HTTP/1.1", HOST],
  ]);
});

Deno.test("origin-form: the target is the path; not with CONNECT", () => {
  for (const target of ["/", "/a/b?c=1&d", "//double", "/?", "/a?b?c", "/%zz"]) {
    const head = parse(`GET ${target} HTTP/1.1`, HOST);
    assert.equal(head.form, "origin");
    assert.equal(head.path, target);
    assert.equal(head.target, target);
  }
  assert.equal(refused("CONNECT / HTTP/1.1", HOST), 400);
});

Deno.test("absolute-form: http and https in any case, path and query go upstream", () => {
  const cases: [string, string, string][] = [
    ["GET", "http://example.com/a/b?c=1", "/a/b?c=1"],
    ["GET", "https://example.com/", "/"],
    ["GET", "http://example.com", "/"],
    ["GET", "http://example.com?q=1", "/?q=1"],
    ["GET", "http://example.com:8080/x", "/x"],
    ["GET", "HTTP://EXAMPLE.com/X", "/X"],
    ["GET", "HtTpS://a/", "/"],
    ["GET", "http://127.0.0.1:80/", "/"],
    ["GET", "http://[::1]:8080/p?q", "/p?q"],
    ["POST", "http://a//b", "//b"],
    // RFC 9112 §3.2.4: OPTIONS of an empty path (and no query) is forwarded as "*".
    ["OPTIONS", "http://example.com", "*"],
    ["OPTIONS", "http://example.com/", "/"],
    ["OPTIONS", "http://example.com?x", "/?x"],
  ];
  for (const [method, target, path] of cases) {
    const head = parse(`${method} ${target} HTTP/1.1`, HOST);
    assert.equal(head.form, "absolute", target);
    assert.equal(head.target, target);
    assert.equal(head.path, path, target);
    assert.equal(head.host, "example.com", "the Host field is reported as sent");
  }
});

Deno.test("absolute-form: other schemes and invalid authorities are 400s", () => {
  for (
    const target of [
      "ftp://example.com/",
      "ws://example.com/",
      "file:///etc/passwd",
      "httpx://a/",
      "http:/a/",
      "http:a",
      "http//a/",
      "http://",
      "http:///path",
      "http://?q",
      "https://:443/",
      "http://user@example.com/",
      "http://user:pass@example.com/",
      "http://a:b/",
      "http://a:/",
      "http://a:65536/",
      "http://a:123456/",
      "http://[::1/",
      "http://[::1]x/",
      "http://a,b/",
      "http://a%zz/",
      "mailto:a@b",
      "example.com",
      "a",
    ]
  ) {
    assert.equal(refused(`GET ${target} HTTP/1.1`, HOST), 400, target);
  }
});

Deno.test("authority-form: host:port, only with CONNECT; the target goes upstream", () => {
  for (const target of ["example.com:443", "127.0.0.1:8443", "[::1]:443", "a:0", "a:65535"]) {
    const head = parse(`CONNECT ${target} HTTP/1.1`, `Host: ${target}`);
    assert.equal(head.form, "authority", target);
    assert.equal(head.path, target);
    assert.equal(head.target, target);
  }
  assertRefused(400, [
    ["no port", "CONNECT example.com HTTP/1.1", HOST],
    ["empty port", "CONNECT example.com: HTTP/1.1", HOST],
    ["port out of range", "CONNECT example.com:70000 HTTP/1.1", HOST],
    ["userinfo", "CONNECT u@example.com:443 HTTP/1.1", HOST],
    ["no host", "CONNECT :443 HTTP/1.1", HOST],
    ["path after the port", "CONNECT example.com:443/x HTTP/1.1", HOST],
    ["absolute-form with CONNECT", "CONNECT http://example.com:443/ HTTP/1.1", HOST],
    ["asterisk with CONNECT", "CONNECT * HTTP/1.1", HOST],
    ["authority-form with GET", "GET example.com:443 HTTP/1.1", HOST],
    ["authority-form with OPTIONS", "OPTIONS example.com:443 HTTP/1.1", HOST],
    ["lower-case connect is another method", "connect example.com:443 HTTP/1.1", HOST],
  ]);
});

Deno.test("asterisk-form: only with OPTIONS", () => {
  const head = parse("OPTIONS * HTTP/1.1", HOST);
  assert.equal(head.form, "asterisk");
  assert.equal(head.path, "*");
  assertRefused(400, [
    ["GET *", "GET * HTTP/1.1", HOST],
    ["options * (methods are case-sensitive)", "options * HTTP/1.1", HOST],
    ["OPTIONS **", "OPTIONS ** HTTP/1.1", HOST],
    ["OPTIONS *x", "OPTIONS *x HTTP/1.1", HOST],
  ]);
});

Deno.test("field lines: in order, names lower-cased, values trimmed, duplicates kept", () => {
  const head = parse(
    GET,
    "Content-Type: text/plain",
    "Set-Cookie: a=1",
    "SET-COOKIE: b=2",
    "X-Empty:",
    "X-Spaces: \t a  b \t ",
    "x-tab:\tv",
    "X-No-Space:v",
    HOST,
    "!#$%&'*+-.^_`|~09azAZ: a\tb",
  );
  assert.deepEqual(head.fields, [
    ["content-type", "text/plain"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["x-empty", ""],
    ["x-spaces", "a  b"],
    ["x-tab", "v"],
    ["x-no-space", "v"],
    ["host", "example.com"],
    ["!#$%&'*+-.^_`|~09azaz", "a\tb"],
  ]);
});

Deno.test("field lines: obs-text bytes come through as latin1 characters", () => {
  const head = parse(GET, HOST, "X-Latin: caf\xe9 \x80\xff", "X-Name: \xc4pfel");
  assert.deepEqual(head.fields.slice(1), [["x-latin", "caf\xe9 \x80\xff"], ["x-name", "\xc4pfel"]]);
});

Deno.test("field lines: every malformation is a 400", () => {
  for (const [what, line] of BAD_FIELD_LINES) assert.equal(refused(GET, HOST, line), 400, what);
  // RFC 9112 §2.2: whitespace between the request line and the first field.
  assert.equal(refused(GET, " Host: example.com"), 400);
  assert.equal(refused(GET, "\tHost: example.com"), 400);
});

Deno.test("field lines: bare CR and NUL are 400s from the parser too, not only from the finder", () => {
  // parseRequestHead must not rely on findRequestHeadEnd having looked.
  for (
    const text of [
      headText(GET, HOST, "A: b\rc"),
      headText(GET, HOST, "A: b\r"),
      headText(GET, HOST, "A\r: b"),
      headText(GET, HOST, "A: b\0"),
      headText(GET, HOST, "A\0: b"),
      headText("GET /\0 HTTP/1.1", HOST),
      headText("GET / HTTP/1.1\r", HOST),
      headText("GET\r/ HTTP/1.1", HOST),
      headText(GET, HOST, "A: b\nC: d"),
      headText(GET, HOST, "\r"),
      // An empty line before the end: not a head findRequestHeadEnd returned.
      headText(GET, HOST, "", "A: b"),
      // No terminating empty line at all.
      "GET / HTTP/1.1\r\nHost: a\r\n",
      "\r\n\r\n",
      "",
    ]
  ) {
    const b = latin1Bytes(text);
    assert.equal(statusOf(() => parseRequestHead(b, 0, b.length)), 400, JSON.stringify(text));
  }
});

Deno.test("field lines: at most MAX_REQUEST_FIELDS, else 431", () => {
  const fields = Array.from({ length: MAX_REQUEST_FIELDS - 1 }, (_, i) => `X-${i}: ${i}`);
  assert.equal(parse(GET, HOST, ...fields).fields.length, MAX_REQUEST_FIELDS);
  assert.equal(refused(GET, HOST, ...fields, "X-Last: 1"), 431);
});

Deno.test("Host: required on HTTP/1.1, optional on HTTP/1.0 (RFC 9112 §3.2)", () => {
  assert.equal(parse(GET, HOST).host, "example.com");
  assert.equal(parse(GET, "HOST:  example.com  ").host, "example.com");
  assert.equal(refused(GET), 400);
  assert.equal(refused(GET, "X-Host: example.com"), 400);
  assert.equal(parse("GET / HTTP/1.0").host, null);
  assert.equal(parse("GET / HTTP/1.0", HOST).host, "example.com");
  // Absolute-form doesn't stand in for Host on HTTP/1.1.
  assert.equal(refused("GET http://example.com/ HTTP/1.1"), 400);
  assert.equal(parse("GET http://example.com/ HTTP/1.0").host, null);
});

Deno.test("Host: more than one, as fields or as a list, is a 400", () => {
  assertRefused(400, [
    ["two fields", GET, HOST, HOST],
    ["two fields, other case", GET, "Host: a", "host: b"],
    ["two fields apart", GET, "Host: a", "X: 1", "HOST: a"],
    ["a list", GET, "Host: a, b"],
    ["a list without spaces", GET, "Host: a,b"],
    ["a list of one and an empty member", GET, "Host: a,"],
    ["on HTTP/1.0 too", "GET / HTTP/1.0", "Host: a", "Host: a"],
  ]);
});

Deno.test("Host: uri-host [: port], as reg-name, IPv4 or [IPv6]", () => {
  for (
    const host of [
      "example.com",
      "EXAMPLE.COM",
      "localhost",
      "a",
      "xn--caf-dma.example",
      "under_score.example",
      "a-b.c~d",
      "!$&'()*+;=",
      "%41%62",
      "127.0.0.1",
      "999.999.999.999",
      "example.com:0",
      "example.com:80",
      "example.com:65535",
      "example.com:00080",
      "[::]",
      "[::1]",
      "[::1]:8080",
      "[1:2:3:4:5:6:7:8]",
      "[2001:db8::1]",
      "[2001:DB8:0:0:0:0:0:1]",
      "[1::]",
      "[1::8]",
      "[1:2:3:4:5:6:7::]",
      "[::2:3:4:5:6:7:8]",
      "[::ffff:192.0.2.1]",
      "[1:2:3:4:5:6:1.2.3.4]",
      "[::0.0.0.0]:1",
    ]
  ) {
    assert.equal(parse(GET, `Host: ${host}`).host, host, host);
    assert.equal(parse("GET / HTTP/1.0", `Host: ${host}`).host, host, `${host} on 1.0`);
  }
});

Deno.test("Host: empty or not uri-host [: port] is a 400", () => {
  for (
    const host of [
      "",
      ":80",
      "example.com:",
      "example.com:65536",
      "example.com:999999",
      "example.com:8o",
      "example.com:-1",
      "example.com:80:80",
      "a b",
      "a/b",
      "a?b",
      "a@b",
      "user@example.com",
      'a"b',
      "a<b>",
      "a\\b",
      "a%",
      "a%4",
      "a%zz",
      "caf\xe9",
      "[",
      "[]",
      "[::1",
      "::1",
      "[::1]x",
      "[::1]:",
      "[::1]:65536",
      "[:]",
      "[:::]",
      "[1:2]",
      "[1:2:3:4:5:6:7]",
      "[1:2:3:4:5:6:7:8:9]",
      "[1:2:3:4::5:6:7:8]",
      "[::1:2:3:4:5:6:7:8]",
      "[1:2:3:4:5:6:7:8::]",
      "[1:2:3:4:5:6:7:8:]",
      "[1::2::3]",
      "[12345::]",
      "[1:]",
      "[:1]",
      "[g::]",
      "[::1.2.3]",
      "[::1.2.3.4.5]",
      "[::256.1.1.1]",
      "[::01.1.1.1]",
      "[::1.2.3.4:5]",
      "[1:2:3:4:5:6:7:1.2.3.4]",
      "[v1.fe]",
      "[fe80::1%25eth0]",
      "[::1] x",
      "a\tb",
    ]
  ) {
    assert.equal(refused(GET, `Host: ${host}`), 400, JSON.stringify(host));
  }
});

Deno.test("framing: no Content-Length or Transfer-Encoding means no content", () => {
  assert.deepEqual(parse(GET, HOST).framing, { kind: "none" });
  assert.deepEqual(parse("POST / HTTP/1.1", HOST).framing, { kind: "none" });
  assert.deepEqual(parse("POST / HTTP/1.0").framing, { kind: "none" });
});

Deno.test("framing: Content-Length, repeated identical values being one (RFC 9110 §8.6)", () => {
  const cases: [string[], number][] = [
    [["Content-Length: 0"], 0],
    [["Content-Length: 5"], 5],
    [["content-length:007"], 7],
    [["Content-Length: 999999999999999"], 999999999999999],
    [["Content-Length: 5", "Content-Length: 5"], 5],
    [["Content-Length: 5, 5"], 5],
    [["Content-Length: 5,5", "content-length: 05"], 5],
  ];
  for (const [fields, length] of cases) {
    assert.deepEqual(parse("POST / HTTP/1.1", HOST, ...fields).framing, { kind: "length", length });
    assert.deepEqual(parse("POST / HTTP/1.0", ...fields).framing, { kind: "length", length });
  }
});

Deno.test("framing: differing or invalid Content-Length is a 400", () => {
  for (const fields of BAD_CONTENT_LENGTHS) {
    assert.equal(refused("POST / HTTP/1.1", HOST, ...fields), 400, JSON.stringify(fields));
  }
});

Deno.test("framing: Transfer-Encoding chunked", () => {
  const chunked = { kind: "chunked" };
  for (
    const fields of [
      ["Transfer-Encoding: chunked"],
      ["Transfer-Encoding: Chunked"],
      ["TRANSFER-ENCODING: CHUNKED"],
      ["Transfer-Encoding:  chunked\t"],
      // RFC 9110 §5.6.1: empty list elements are ignored.
      ["Transfer-Encoding: chunked,"],
      ["Transfer-Encoding: , chunked"],
      ["Transfer-Encoding: ,", "Transfer-Encoding: chunked"],
    ]
  ) {
    assert.deepEqual(parse("POST / HTTP/1.1", HOST, ...fields).framing, chunked, `${fields}`);
  }
});

Deno.test("framing: Transfer-Encoding with Content-Length, or on HTTP/1.0, is a 400", () => {
  assertRefused(400, [
    ["CL then TE", "POST / HTTP/1.1", HOST, "Content-Length: 5", "Transfer-Encoding: chunked"],
    ["TE then CL", "POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Content-Length: 5"],
    ["TE and CL 0", "POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Content-Length: 0"],
    [
      "CL with an unknown TE",
      "POST / HTTP/1.1",
      HOST,
      "Content-Length: 5",
      "Transfer-Encoding: gzip",
    ],
    ["TE on HTTP/1.0", "POST / HTTP/1.0", "Transfer-Encoding: chunked"],
    ["unknown TE on HTTP/1.0", "POST / HTTP/1.0", "Transfer-Encoding: gzip, chunked"],
  ]);
});

Deno.test("framing: chunked not last, twice, empty or malformed is a 400", () => {
  const line = "POST / HTTP/1.1";
  assertRefused(400, [
    ["chunked not last", line, HOST, "Transfer-Encoding: chunked, gzip"],
    [
      "chunked not last across fields",
      line,
      HOST,
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: gzip",
    ],
    ["no chunked", line, HOST, "Transfer-Encoding: gzip"],
    ["identity alone", line, HOST, "Transfer-Encoding: identity"],
    ["chunked twice", line, HOST, "Transfer-Encoding: chunked, chunked"],
    [
      "chunked twice across fields",
      line,
      HOST,
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked",
    ],
    ["chunked twice around gzip", line, HOST, "Transfer-Encoding: chunked, gzip, chunked"],
    ["empty", line, HOST, "Transfer-Encoding:"],
    ["only commas", line, HOST, "Transfer-Encoding: , ,"],
    ["a parameter", line, HOST, "Transfer-Encoding: chunked;q=1"],
    ["space inside a coding", line, HOST, "Transfer-Encoding: gzip chunked"],
    ["not a token", line, HOST, 'Transfer-Encoding: "chunked"'],
    ["obs-text", line, HOST, "Transfer-Encoding: chunk\xe9d"],
    ["a near miss", line, HOST, "Transfer-Encoding: chunked2"],
  ]);
});

Deno.test("framing: a transfer coding other than chunked is a 501 (we don't decode them)", () => {
  for (const codings of ["gzip", "deflate", "compress", "identity", "x-gzip", "br", "whatever"]) {
    const fields = [`Transfer-Encoding: ${codings}, chunked`];
    assert.equal(refused("POST / HTTP/1.1", HOST, ...fields), 501, codings);
    assert.equal(
      refused(
        "POST / HTTP/1.1",
        HOST,
        `Transfer-Encoding: ${codings}`,
        "Transfer-Encoding: chunked",
      ),
      501,
      `${codings} across fields`,
    );
  }
  assert.equal(refused("POST / HTTP/1.1", HOST, "Transfer-Encoding: gzip, deflate, chunked"), 501);
});

Deno.test("keepAlive: 1.1 unless close; 1.0 only with keep-alive (RFC 9112 §9.3)", () => {
  const cases: [string, string[], boolean][] = [
    ["1.1", [], true],
    ["1.1", ["Connection: close"], false],
    ["1.1", ["Connection: Close"], false],
    ["1.1", ["Connection: CLOSE"], false],
    ["1.1", ["Connection: keep-alive, close"], false],
    ["1.1", ["Connection: keep-alive", "Connection: close"], false],
    ["1.1", ["Connection: x-custom ,  close "], false],
    ["1.1", ["Connection: ,close,"], false],
    ["1.1", ["Connection: keep-alive"], true],
    ["1.1", ["Connection: upgrade"], true],
    ["1.1", ["Connection: closed"], true],
    ["1.1", ["Connection: close-ish"], true],
    ["1.1", ["Connection: x close"], true],
    ["1.1", ["X-Connection: close"], true],
    ["1.0", [], false],
    ["1.0", ["Connection: keep-alive"], true],
    ["1.0", ["Connection: Keep-Alive"], true],
    ["1.0", ["Connection: foo, keep-alive"], true],
    ["1.0", ["Connection: keep-alive, close"], false],
    ["1.0", ["Connection: close", "Connection: keep-alive"], false],
    ["1.0", ["Connection: keepalive"], false],
    ["1.0", ["Connection: upgrade"], false],
    ["1.0", ["Keep-Alive: timeout=5"], false],
  ];
  for (const [version, fields, expected] of cases) {
    const head = parse(`GET / HTTP/${version}`, HOST, ...fields);
    assert.equal(head.keepAlive, expected, `${version} ${fields}`);
  }
});

Deno.test("expectContinue: Expect: 100-continue in any case, on HTTP/1.1 only", () => {
  const cases: [string, string[], boolean][] = [
    ["1.1", ["Expect: 100-continue"], true],
    ["1.1", ["Expect: 100-Continue"], true],
    ["1.1", ["expect:  100-CONTINUE "], true],
    ["1.1", ["Expect: foo, 100-continue"], true],
    ["1.1", ["Expect: foo", "Expect: 100-continue"], true],
    ["1.1", [], false],
    ["1.1", ["Expect: 100-continued"], false],
    ["1.1", ["Expect: 100"], false],
    ["1.1", ["Expect: foo"], false],
    ["1.1", ["X-Expect: 100-continue"], false],
    // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 MUST be ignored.
    ["1.0", ["Expect: 100-continue"], false],
  ];
  for (const [version, fields, expected] of cases) {
    const head = parse(`POST / HTTP/${version}`, HOST, "Content-Length: 3", ...fields);
    assert.equal(head.expectContinue, expected, `${version} ${fields}`);
  }
});

Deno.test("upgrade: the Upgrade value when Connection lists upgrade, on HTTP/1.1 only", () => {
  const cases: [string, string[], string | undefined][] = [
    ["1.1", ["Connection: Upgrade", "Upgrade: websocket"], "websocket"],
    ["1.1", ["Upgrade: websocket", "Connection: upgrade"], "websocket"],
    ["1.1", ["Connection: keep-alive, Upgrade", "Upgrade: h2c"], "h2c"],
    ["1.1", ["Connection: UPGRADE", "Upgrade: foo/2, bar"], "foo/2, bar"],
    ["1.1", ["Connection: upgrade", "Upgrade: a", "Upgrade: b"], "a, b"],
    ["1.1", ["Upgrade: websocket"], undefined],
    ["1.1", ["Connection: keep-alive", "Upgrade: websocket"], undefined],
    ["1.1", ["Connection: upgrade"], undefined],
    ["1.1", ["Connection: upgrade", "Upgrade:"], undefined],
    ["1.1", ["Connection: upgraded", "Upgrade: websocket"], undefined],
    // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request MUST be ignored.
    ["1.0", ["Connection: upgrade", "Upgrade: websocket"], undefined],
  ];
  for (const [version, fields, expected] of cases) {
    const head = parse(`GET /chat HTTP/${version}`, HOST, ...fields);
    assert.equal(head.upgrade, expected, `${version} ${fields}`);
  }
});
