/**
 * Differential test of the fronts: the same raw byte streams go to the lb
 * with the h1 front, the lb with `--front deno-serve` and NGINX, each in
 * front of its own recording backend (the same program, one instance per
 * receiver so that what each forwarded can be told apart). For every
 * receiver we note what the client saw (the statuses, or that the
 * connection closed without one) and what reached the backend: request
 * line, the set of field names, and the body.
 *
 * Asserted, for the h1 front only: the status of every case (the rules of
 * lib/front/h1/request_head.ts), that nothing reaches the backend for a
 * request that it or NGINX refuses as smuggling-prone (CL with TE, differing
 * CLs, TE without final chunked, obs-fold, bare CR or LF), and that a valid
 * request reaches the backend with the same method, target and body as
 * through NGINX. Where Deno.serve or NGINX answer differently the test
 * doesn't fail: it prints a table of every case and a list of the
 * differences, for the README.
 */

import assert from "node:assert/strict";
import { startLb } from "./_lb.ts";
import {
  exchangeRaw,
  hasNginx,
  NGINX,
  type NginxProxy,
  type Recorded,
  type RecordingBackend,
  recordingBackend,
  startNginx,
  type WireResult,
} from "./_front.ts";
import { delay } from "./_h1.ts";

/** What a valid request must arrive upstream as. */
interface Upstream {
  readonly method: string;
  readonly target: string;
  readonly body?: string;
  /** When given, the Host field the backend must get. */
  readonly host?: string;
  /** When given, the Content-Length fields the backend must get (values, in order). */
  readonly contentLength?: readonly string[];
}

/** One byte stream and what the h1 front must do with it. */
interface Case {
  readonly name: string;
  /** The bytes (latin1), written in one go unless given as several pieces. */
  readonly send: string | readonly string[];
  /** The statuses the h1 front answers with, in order; [] for a close without a response. */
  readonly h1: readonly number[];
  /** For a case the h1 front serves: the requests the backend must get, in order. */
  readonly forwards?: readonly Upstream[];
  /**
   * Smuggling-prone framing or line breaks: nothing may reach the backend
   * through the h1 front, not even a head whose body then fails.
   */
  readonly smuggling?: true;
  /** Why the backend may legitimately see something different via NGINX. */
  readonly nginxDiffers?: string;
  /** The h1 front must close the connection after its last response (implied by a 4xx/5xx). */
  readonly closes?: true;
  /** A bug in lib/ this case shows: its step is ignored (the row is still printed) until fixed. */
  readonly bug?: string;
}

const CRLF = "\r\n";
/** A head: request line, then field lines, then the empty line. */
const head = (line: string, ...fields: string[]) => [line, ...fields, "", ""].join(CRLF);
const H = "Host: example.com";

const CASES: readonly Case[] = [
  // --- valid ---------------------------------------------------------------
  {
    name: "GET origin-form",
    send: head("GET /plain HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/plain" }],
  },
  {
    name: "GET with query and odd-but-legal target bytes",
    send: head("GET /a/b;p=1/%7Ec?x=1&y=a:b@c!$'()*+,;=/? HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/a/b;p=1/%7Ec?x=1&y=a:b@c!$'()*+,;=/?" }],
  },
  {
    name: "POST Content-Length",
    send: head("POST /cl HTTP/1.1", H, "Content-Length: 11") + "hello world",
    h1: [200],
    forwards: [{ method: "POST", target: "/cl", body: "hello world" }],
  },
  {
    name: "POST Content-Length: 0",
    send: head("POST /cl0 HTTP/1.1", H, "Content-Length: 0"),
    h1: [200],
    forwards: [{ method: "POST", target: "/cl0" }],
  },
  {
    name: "POST body in a second write",
    send: [head("POST /later HTTP/1.1", H, "Content-Length: 5"), "12345"],
    h1: [200],
    forwards: [{ method: "POST", target: "/later", body: "12345" }],
  },
  {
    name: "POST chunked",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") +
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    h1: [200],
    forwards: [{ method: "POST", target: "/ch", body: "hello world" }],
  },
  {
    name: "POST chunked, coding name in upper case",
    send: head("POST /CH HTTP/1.1", H, "Transfer-Encoding: Chunked") + "3\r\nabc\r\n0\r\n\r\n",
    h1: [200],
    forwards: [{ method: "POST", target: "/CH", body: "abc" }],
  },
  {
    name: "POST chunked with extensions",
    send: head("POST /ext HTTP/1.1", H, "Transfer-Encoding: chunked") +
      '5;name=value\r\nhello\r\n1 ; flag ; q="a;b\\"c"\r\n!\r\n0;last\r\n\r\n',
    h1: [200],
    forwards: [{ method: "POST", target: "/ext", body: "hello!" }],
  },
  {
    name: "POST chunked with trailers",
    send: head("POST /tr HTTP/1.1", H, "Transfer-Encoding: chunked", "Trailer: X-Sum") +
      "4\r\nabcd\r\n0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n",
    h1: [200],
    forwards: [{ method: "POST", target: "/tr", body: "abcd" }],
  },
  {
    name: "pipelined GET, GET",
    send: head("GET /p1 HTTP/1.1", H) + head("GET /p2 HTTP/1.1", H),
    h1: [200, 200],
    forwards: [{ method: "GET", target: "/p1" }, { method: "GET", target: "/p2" }],
  },
  {
    name: "pipelined POST (CL), GET",
    send: head("POST /p1 HTTP/1.1", H, "Content-Length: 3") + "abc" +
      head("GET /p2 HTTP/1.1", H),
    h1: [200, 200],
    forwards: [{ method: "POST", target: "/p1", body: "abc" }, { method: "GET", target: "/p2" }],
  },
  {
    name: "pipelined POST (chunked), DELETE",
    send: head("POST /p1 HTTP/1.1", H, "Transfer-Encoding: chunked") + "2\r\nhi\r\n0\r\n\r\n" +
      head("DELETE /p2 HTTP/1.1", H),
    h1: [200, 200],
    forwards: [{ method: "POST", target: "/p1", body: "hi" }, {
      method: "DELETE",
      target: "/p2",
    }],
  },
  {
    name: "HTTP/1.0 without Host or keep-alive",
    send: head("GET /old HTTP/1.0"),
    h1: [200],
    forwards: [{ method: "GET", target: "/old" }],
    closes: true,
    // RFC 9112 §3.2 requires Host only of HTTP/1.1 requests, and request_head.ts accepts
    // a 1.0 request without one (host: null), but the core refuses every request with
    // host null: 400 "missing Host header".
  },
  {
    name: "HTTP/1.0 keep-alive, two requests",
    send: head("GET /k1 HTTP/1.0", H, "Connection: keep-alive") +
      head("GET /k2 HTTP/1.0", H, "Connection: keep-alive"),
    h1: [200, 200],
    forwards: [{ method: "GET", target: "/k1" }, { method: "GET", target: "/k2" }],
  },
  {
    name: "HTTP/1.0 without keep-alive, a second request is not read",
    send: head("GET /once HTTP/1.0", H) + head("GET /never HTTP/1.0", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/once" }],
    closes: true,
  },
  {
    name: "Connection: close, a second request is not read",
    send: head("GET /c1 HTTP/1.1", H, "Connection: close") + head("GET /c2 HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/c1" }],
    closes: true,
  },
  {
    name: "absolute-form",
    send: head("GET http://example.com/abs?q=1 HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/abs?q=1" }],
  },
  {
    name: "absolute-form, Host differs",
    send: head("GET http://example.com:8080/abs2 HTTP/1.1", "Host: other.example"),
    h1: [200],
    forwards: [{ method: "GET", target: "/abs2" }],
  },
  {
    name: "absolute-form, Host differs: the target's authority goes upstream as Host",
    send: head("GET http://example.com:8080/abs3 HTTP/1.1", "Host: other.example"),
    h1: [200],
    forwards: [{ method: "GET", target: "/abs3", host: "example.com:8080" }],
    // RFC 9112 §3.2.2: a proxy MUST ignore the received Host and generate one
    // from an absolute-form target. RequestHead.host is the Host field
    // whatever the form, so the backend gets `host: other.example` (and
    // X-Forwarded-Host/Forwarded say the same) while the URI named example.com.
  },
  {
    name: "OPTIONS *",
    send: head("OPTIONS * HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "OPTIONS", target: "*" }],
    nginxDiffers: "nginx has no asterisk-form",
  },
  {
    name: "leading empty line before the request line",
    send: CRLF + head("GET /lead HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "GET", target: "/lead" }],
  },
  {
    name: "Content-Length list 5, 5 (RFC 9110 §8.6)",
    send: head("POST /cl55 HTTP/1.1", H, "Content-Length: 5, 5") + "12345",
    h1: [200],
    forwards: [{ method: "POST", target: "/cl55", body: "12345" }],
    nginxDiffers: "nginx refuses a Content-Length list",
  },
  {
    name: "Content-Length list 5, 5 goes upstream as one value",
    send: head("POST /cl55n HTTP/1.1", H, "Content-Length: 5, 5") + "12345",
    h1: [200],
    forwards: [{ method: "POST", target: "/cl55n", body: "12345", contentLength: ["5"] }],
    nginxDiffers: "nginx refuses a Content-Length list",
    // RFC 9110 §8.6: a sender MUST NOT forward a Content-Length that isn't
    // 1*DIGIT; a list of one repeated value MAY be replaced by that value.
    // The h1 front forwards `content-length: 5, 5` verbatim.
  },
  {
    name: "two identical Content-Length fields",
    send: head("POST /cl2 HTTP/1.1", H, "Content-Length: 3", "Content-Length: 3") + "abc",
    h1: [200],
    forwards: [{ method: "POST", target: "/cl2", body: "abc" }],
    nginxDiffers: "nginx refuses a repeated Content-Length",
  },
  {
    name: "two identical Content-Length fields go upstream as one",
    send: head("POST /cl2n HTTP/1.1", H, "Content-Length: 3", "Content-Length: 3") + "abc",
    h1: [200],
    forwards: [{ method: "POST", target: "/cl2n", body: "abc", contentLength: ["3"] }],
    nginxDiffers: "nginx refuses a repeated Content-Length",
    // The same as a list (RFC 9110 §5.3): both fields are forwarded.
  },
  {
    name: "lowercase method (a token: case-sensitive, RFC 9110 §9.1)",
    send: head("get /lower HTTP/1.1", H),
    h1: [200],
    forwards: [{ method: "get", target: "/lower" }],
    nginxDiffers: "nginx accepts only upper-case methods",
  },
  {
    name: "obs-text and empty values",
    send: head("GET /obs HTTP/1.1", H, "X-Latin: caf\xe9", "X-Empty:", "X-Tab:\tv\t"),
    h1: [200],
    forwards: [{ method: "GET", target: "/obs" }],
  },
  {
    name: "100 field lines (the limit)",
    send: head("GET /f100 HTTP/1.1", H, ...Array.from({ length: 99 }, (_, i) => `X-F${i}: ${i}`)),
    h1: [200],
    forwards: [{ method: "GET", target: "/f100" }],
  },
  {
    name: "8 KiB target (the limit)",
    send: head(`GET /${"t".repeat(8 * 1024 - 1)} HTTP/1.1`, H),
    h1: [200],
    forwards: [{ method: "GET", target: `/${"t".repeat(8 * 1024 - 1)}` }],
  },
  {
    name: "Connection: host still leaves a Host for the backend",
    send: head("GET /conn-host HTTP/1.1", H, "Connection: host"),
    h1: [200],
    forwards: [{ method: "GET", target: "/conn-host", host: "example.com" }],
    // upstreamRequestHeaders() drops the fields Connection names, Host
    // included, and handle() adds Host back only when the client sent none:
    // the backend gets an HTTP/1.1 request without Host (RFC 9112 §3.2).
  },
  {
    name: "Expect: 100-continue with the body already sent",
    send: head("PUT /exp HTTP/1.1", H, "Expect: 100-continue", "Content-Length: 4") + "data",
    h1: [200],
    forwards: [{ method: "PUT", target: "/exp", body: "data" }],
  },

  // --- framing: smuggling-prone --------------------------------------------
  {
    name: "Content-Length and Transfer-Encoding",
    send: head("POST /clte HTTP/1.1", H, "Content-Length: 4", "Transfer-Encoding: chunked") +
      "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding then Content-Length",
    send: head("POST /tecl HTTP/1.1", H, "Transfer-Encoding: chunked", "Content-Length: 3") +
      "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "two differing Content-Length fields",
    send: head("POST /cl HTTP/1.1", H, "Content-Length: 3", "Content-Length: 5") + "abcde",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Content-Length list 3, 5",
    send: head("POST /cl HTTP/1.1", H, "Content-Length: 3, 5") + "abcde",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Content-Length +5",
    send: head("POST /cl HTTP/1.1", H, "Content-Length: +5") + "abcde",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Content-Length 0x5",
    send: head("POST /cl HTTP/1.1", H, "Content-Length: 0x5") + "abcde",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding: gzip, chunked (unsupported coding)",
    send: head("POST /te HTTP/1.1", H, "Transfer-Encoding: gzip, chunked") + "0\r\n\r\n",
    h1: [501],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding: chunked, gzip (chunked not final)",
    send: head("POST /te HTTP/1.1", H, "Transfer-Encoding: chunked, gzip") + "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding in two fields: chunked, then gzip",
    send: head("POST /te HTTP/1.1", H, "Transfer-Encoding: chunked", "Transfer-Encoding: gzip") +
      "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding: chunked twice",
    send: head("POST /te HTTP/1.1", H, "Transfer-Encoding: chunked, chunked") + "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding: xchunked",
    send: head("POST /te HTTP/1.1", H, "Transfer-Encoding: xchunked") + "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "Transfer-Encoding on HTTP/1.0",
    send: head("POST /te10 HTTP/1.0", H, "Transfer-Encoding: chunked") + "3\r\nabc\r\n0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "obs-fold",
    send: head("GET /fold HTTP/1.1", H, "X-Folded: a", " b"),
    h1: [400],
    smuggling: true,
  },
  {
    name: "obs-fold of Transfer-Encoding",
    send: head("POST /fold HTTP/1.1", H, "Transfer-Encoding:", " chunked") + "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "bare CR in a value",
    send: head("GET /cr HTTP/1.1", H, "X-A: 1\rX-B: 2"),
    h1: [400],
    smuggling: true,
  },
  {
    name: "bare LF line endings",
    send: "GET /lf HTTP/1.1\nHost: example.com\n\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "bare LF ending one field line",
    send: "GET /lf HTTP/1.1\r\nHost: example.com\nX-A: 1\r\n\r\n",
    h1: [400],
    smuggling: true,
  },
  {
    name: "space before the colon",
    send: head("POST /sp HTTP/1.1", H, "Transfer-Encoding : chunked") + "0\r\n\r\n",
    h1: [400],
    smuggling: true,
  },

  // --- other malformations -------------------------------------------------
  {
    name: "NUL in a value",
    send: head("GET /nul HTTP/1.1", H, "X-A: a\0b"),
    h1: [400],
  },
  {
    name: "duplicate Host",
    send: head("GET /hh HTTP/1.1", H, "Host: evil.example"),
    h1: [400],
  },
  {
    name: "missing Host on HTTP/1.1",
    send: head("GET /nohost HTTP/1.1"),
    h1: [400],
  },
  {
    name: "Host with a space",
    send: head("GET /h HTTP/1.1", "Host: exa mple.com"),
    h1: [400],
  },
  // A chunked body is streamed, so its head has gone upstream by the time a
  // bad chunk line is found: the backend sees a head and then a cut
  // connection, never a complete request.
  {
    name: "bare LF in a chunk-size line",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") + "3\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "invalid chunk size",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") + "zz\r\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "chunk size with 0x prefix",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") + "0x3\r\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "chunk size overflowing 2^53",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") +
      "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "chunk extension garbage",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") +
      "3;@@@\r\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "chunk data longer than its size",
    send: head("POST /ch HTTP/1.1", H, "Transfer-Encoding: chunked") + "2\r\nabc\r\n0\r\n\r\n",
    h1: [400],
  },
  {
    name: "head over 64 KiB",
    send: head("GET /big HTTP/1.1", H, `X-Big: ${"b".repeat(70 * 1024)}`),
    h1: [431],
  },
  {
    name: "101 field lines",
    send: head("GET /f101 HTTP/1.1", H, ...Array.from({ length: 100 }, (_, i) => `X-F${i}: ${i}`)),
    h1: [431],
  },
  {
    name: "target over 8 KiB",
    send: head(`GET /${"t".repeat(9 * 1024)} HTTP/1.1`, H),
    h1: [414],
  },
  {
    name: "HTTP/2.0 request line",
    send: head("GET / HTTP/2.0", H),
    h1: [505],
  },
  {
    name: "h2c prior-knowledge preface",
    send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    h1: [505],
  },
  {
    name: "HTTP/1.2",
    send: head("GET / HTTP/1.2", H),
    h1: [505],
  },
  {
    name: "lowercase http/1.1",
    send: head("GET / http/1.1", H),
    h1: [400],
  },
  {
    name: "GET  / (double space)",
    send: head("GET  / HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "tab between method and target",
    send: head("GET\t/ HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "space after the version",
    send: head("GET / HTTP/1.1 ", H),
    h1: [400],
  },
  {
    name: "fragment in the target",
    send: head("GET /a#frag HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "non-ASCII byte in the target",
    send: head("GET /caf\xe9 HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "method not a token",
    send: head("G(T / HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "field name not a token",
    send: head("GET / HTTP/1.1", H, "X@Y: 1"),
    h1: [400],
  },
  {
    name: "empty field name",
    send: head("GET / HTTP/1.1", H, ": empty"),
    h1: [400],
  },
  {
    name: "absolute-form with userinfo",
    send: head("GET http://user@example.com/ HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "absolute-form, scheme not http(s)",
    send: head("GET ftp://example.com/ HTTP/1.1", H),
    h1: [400],
  },
  {
    name: "CONNECT",
    send: head("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"),
    h1: [501],
  },
  {
    name: "pipelined GET then a bad request",
    send: head("GET /good HTTP/1.1", H) + head("GET /bad HTTP/1.1", H, "Host: twice"),
    h1: [200, 400],
    forwards: [{ method: "GET", target: "/good" }],
    // #refuse() returns early while #replying is still true from the previous
    // reply (only #serve resets it), so the second request gets no 400: the
    // connection just closes.
  },
];

/** A receiver under test: where to send, and the backend behind it. */
interface Receiver {
  readonly name: "h1" | "deno-serve" | "nginx";
  readonly port: number;
  readonly backend: RecordingBackend;
}

/** What one receiver did with one case. */
interface Outcome {
  readonly wire: WireResult;
  /** The requests that reached its backend whole. */
  readonly upstream: readonly Recorded[];
  /** Bytes of a request its backend got only part of. */
  readonly partial: readonly string[];
}

/** How many responses a case can get: one per request in the stream. */
const responsesFor = (c: Case) => Math.max(c.h1.length, c.forwards?.length ?? 0, 1);
const closesAfter = (c: Case) => c.closes === true || c.h1.some((s) => s >= 400);

async function run(r: Receiver, c: Case): Promise<Outcome> {
  r.backend.clear();
  const count = responsesFor(c);
  // The h1 front is also checked for closing; the others are read only as far as needed.
  const untilClose = r.name === "h1" && closesAfter(c);
  const wire = await exchangeRaw(r.port, typeof c.send === "string" ? [c.send] : c.send, {
    responses: untilClose ? undefined : count,
    timeoutMs: 1500,
    delayMs: 20,
  });
  const allFromBackend = wire.responses.length === count &&
    wire.responses.every((res) => res.fields.some(([n]) => n === "x-backend"));
  // A refused request, or one whose body failed, may still be on its way upstream.
  if (!allFromBackend) await delay(60);
  return { wire, upstream: [...r.backend.requests], partial: [...r.backend.partial] };
}

/** A table cell: statuses (or how the connection ended), then what the backend got. */
function cell(c: Case, o: Outcome | undefined): string {
  if (!o) return "-";
  const { wire } = o;
  let seen = wire.responses.map((r) => String(r.status)).join(",");
  if (seen === "") {
    // An h2c server answers the preface with a SETTINGS frame (type 4).
    if (wire.raw.startsWith("\0\0") && wire.raw.charCodeAt(3) === 4) seen = "h2 SETTINGS";
    else if (wire.malformed) seen = "garbage";
    else seen = wire.closed ? "closed" : "timeout";
  } else if (!wire.closed && wire.responses.length < responsesFor(c)) {
    seen += " timeout";
  }
  const n = o.upstream.length;
  const fwd = n === 0 ? "" : n === 1 ? " fwd" : ` fwd${n}`;
  return seen + fwd + (o.partial.length > 0 ? " partial" : "");
}

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 20)}…(${s.length})` : s);

/** What reached the backend, reduced to method, target, Host and body, for comparing receivers. */
function essentials(o: Outcome, withHost: boolean): string {
  return o.upstream.map((u) => {
    const host = withHost ? ` host=${u.fields.find(([n]) => n === "host")?.[1]}` : "";
    return `${u.method} ${short(u.target)}${host}${
      u.body ? ` body=${JSON.stringify(u.body)}` : ""
    }`;
  }).join(" + ");
}

/** How `o` differs from the h1 front's outcome `a`, or undefined. */
function difference(c: Case, who: string, a: Outcome, o: Outcome): string | undefined {
  // NGINX sends Host as the upstream's name by default, so only Deno.serve's Host is compared.
  const withHost = who === "deno-serve";
  const same = (x: Outcome) => essentials(x, withHost);
  if (cell(c, o) !== cell(c, a)) {
    const forwarded = o.upstream.length > 0 && same(o) !== same(a) ? ` (sent ${same(o)})` : "";
    return `${c.name}: h1 ${cell(c, a)}, ${who} ${cell(c, o)}${forwarded}`;
  }
  if (same(o) !== same(a)) return `${c.name}: ${who} sent ${same(o)}, h1 sent ${same(a)}`;
  if (who === "deno-serve") {
    const names = (x: Outcome) => x.upstream.map((u) => u.names.join(",")).join(" + ");
    if (names(o) !== names(a)) {
      return `${c.name}: deno-serve field names ${names(o)}, h1 ${names(a)}`;
    }
  }
  return undefined;
}

Deno.test("front differential: h1 vs deno-serve vs nginx on raw byte streams", async (t) => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  await using h1Backend = recordingBackend();
  await using serveBackend = recordingBackend();
  await using nginxBackend = recordingBackend();
  const timeouts = ["--client-header-timeout", "2s", "--client-body-timeout", "2s"];
  await using h1 = await startLb([h1Backend.origin], ["--front", "h1", ...timeouts]);
  await using serve = await startLb([serveBackend.origin], ["--front", "deno-serve"]);
  let nginx: NginxProxy | undefined;
  if (await hasNginx()) {
    nginx = await startNginx(nginxBackend.port);
  } else {
    console.log(`front_differential_test: ${NGINX} not installed; skipping the nginx column`);
  }
  try {
    const receivers: Receiver[] = [
      { name: "h1", port: h1.port, backend: h1Backend },
      { name: "deno-serve", port: serve.port, backend: serveBackend },
      ...(nginx ? [{ name: "nginx" as const, port: nginx.port, backend: nginxBackend }] : []),
    ];
    const rows: string[][] = [];
    const differences: string[] = [];
    for (const c of CASES) {
      const outcomes = new Map<string, Outcome>();
      // Each receiver has its own backend, so the three run at once.
      await Promise.all(receivers.map(async (r) => outcomes.set(r.name, await run(r, c))));
      const a = outcomes.get("h1")!;
      const n = outcomes.get("nginx");
      rows.push([c.name, ...receivers.map((r) => cell(c, outcomes.get(r.name)))]);
      for (const r of receivers.slice(1)) {
        const d = difference(c, r.name, a, outcomes.get(r.name)!);
        if (d) differences.push(d);
      }
      await t.step({ name: c.name, ignore: c.bug !== undefined, fn: () => checkH1(c, a, n) });
    }
    printTable(receivers, rows);
    console.log(`\nDifferences from the h1 front (${differences.length}):`);
    for (const d of differences) console.log(`  - ${d}`);
    const bugs = CASES.filter((c) => c.bug);
    console.log(`\nIgnored until fixed (${bugs.length}):`);
    for (const c of bugs) console.log(`  - ${c.name}: ${c.bug}`);
  } finally {
    await nginx?.stop();
  }
});

/** The assertions on the h1 front for one case. */
function checkH1(c: Case, a: Outcome, nginx: Outcome | undefined): void {
  assert.equal(a.wire.malformed, undefined, "a well-formed response stream");
  assert.ok(a.wire.responses.every((r) => r.minor === 1), "responses are HTTP/1.1");
  assert.deepEqual(a.wire.responses.map((r) => r.status), c.h1, "statuses");
  if (closesAfter(c)) assert.ok(a.wire.closed, "the connection closes after the last response");
  const forwards = c.forwards ?? [];
  assert.deepEqual(
    a.upstream.map((u) => ({ line: u.line, body: u.body })),
    forwards.map((f) => ({ line: `${f.method} ${f.target} HTTP/1.1`, body: f.body ?? "" })),
    "what reached the backend",
  );
  forwards.forEach((f, i) => {
    const values = (name: string) =>
      a.upstream[i].fields.filter(([n]) => n === name).map(([, v]) => v);
    if (f.host !== undefined) assert.deepEqual(values("host"), [f.host], "Host upstream");
    if (f.contentLength) {
      assert.deepEqual(values("content-length"), f.contentLength, "Content-Length upstream");
    }
  });
  if (c.smuggling) {
    assert.deepEqual(a.partial, [], "not even the head of a smuggling-prone request goes upstream");
  }
  if (nginx && forwards.length > 0 && nginx.upstream.length > 0 && !c.nginxDiffers) {
    assert.equal(
      essentials(a, false),
      essentials(nginx, false),
      "method, target and body as via nginx",
    );
  }
}

function printTable(receivers: readonly Receiver[], rows: readonly string[][]): void {
  const all = [["case", ...receivers.map((r) => r.name)], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(
    "\nFront differential (statuses; fwd: the backend got it whole; partial: only a part):",
  );
  for (const r of all) console.log("  " + r.map((v, i) => v.padEnd(widths[i])).join(" | "));
}
