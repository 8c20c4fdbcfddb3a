/**
 * The chunked transfer-coding decoder (lib/http1/chunked.ts) on fixed
 * vectors: extensions (valid and not, RFC 9112 §7.1.1), hex case, trailers, malformed framing, limits, inputs
 * split at every byte boundary, and the consumed count that tells the
 * transport where the next response starts.
 */

import assert from "node:assert/strict";
import { ChunkedDecoder } from "../lib/http1/chunked.ts";
import { ParseError } from "../lib/http1/syntax.ts";
import { concat } from "./_http.ts";
import { latin1Bytes, latin1Text } from "./_h1.ts";

/** What feeding a decoder gave. */
interface Decoded {
  /** The data, latin1. */
  readonly data: string;
  readonly done: boolean;
  /** Bytes consumed over all calls. */
  readonly consumed: number;
}

/**
 * Feeds `input` (latin1) to a fresh decoder in pieces cut at `cuts`, each
 * piece a separate array decoded from index 0, so a call's return value is
 * both the index reached and the count consumed.
 */
function decode(input: string, cuts: readonly number[] = []): Decoded {
  const bytes = latin1Bytes(input);
  const decoder = new ChunkedDecoder();
  const out: Uint8Array[] = [];
  let consumed = 0;
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const piece = bytes.slice(from, to);
    const n = decoder.decode(piece, 0, piece.length, (d) => out.push(d.slice()));
    assert.ok(n >= 0 && n <= piece.length, `consumed ${n} of ${piece.length}`);
    if (n < piece.length) assert.ok(decoder.done, "bytes left over only once done");
    consumed += n;
    from = to;
  }
  return { data: latin1Text(concat(out)), done: decoder.done, consumed };
}

Deno.test("chunked: simple bodies, hex case, leading zeros, zero-length body", () => {
  const cases: [string, string][] = [
    ["5\r\nhello\r\n0\r\n\r\n", "hello"],
    ["5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"],
    ["A\r\n0123456789\r\n0\r\n\r\n", "0123456789"],
    ["a\r\n0123456789\r\n0\r\n\r\n", "0123456789"],
    ["1A\r\n" + "x".repeat(26) + "\r\n0\r\n\r\n", "x".repeat(26)],
    ["1a\r\n" + "y".repeat(26) + "\r\n0\r\n\r\n", "y".repeat(26)],
    ["0005\r\nhello\r\n000\r\n\r\n", "hello"],
    ["0\r\n\r\n", ""],
    // Data bytes are opaque: CR, LF and obs-text inside a chunk are data.
    ["6\r\n\r\n\n\r\xff\x00\r\n0\r\n\r\n", "\r\n\n\r\xff\x00"],
  ];
  for (const [input, data] of cases) {
    assert.deepEqual(decode(input), { data, done: true, consumed: input.length }, input);
  }
});

Deno.test("chunked: extensions that follow the grammar are accepted and ignored", () => {
  const cases = [
    "5;name=value\r\nhello\r\n0\r\n\r\n",
    "5;name\r\nhello\r\n0\r\n\r\n",
    '5;name="quoted value; with = signs"\r\nhello\r\n0;last=1\r\n\r\n',
    "5;a=1;b=2\r\nhello\r\n0\r\n\r\n",
    // BWS before the semicolon, after it, and around "=" (RFC 9112 §7.1.1).
    "5 ;a=1\r\nhello\r\n0\t;b\r\n\r\n",
    "5 ; a = 1 ;\tb\t=\t2\r\nhello\r\n0\r\n\r\n",
    "5;a ;b\r\nhello\r\n0\r\n\r\n",
    // Every tchar in names and token values; hex of either case with extensions.
    "5;!#$%&'*+-.^_`|~09azAZ=!#$%&'*+-.^_`|~09azAZ\r\nhello\r\n0\r\n\r\n",
    "5;A=B\r\nhello\r\n0;Z\r\n\r\n",
    // quoted-string: empty, HTAB, obs-text, and quoted-pairs (RFC 9110 §5.6.4).
    '5;a=""\r\nhello\r\n0\r\n\r\n',
    '5;a="\tcaf\xe9 \x80\xff"\r\nhello\r\n0\r\n\r\n',
    '5;a="say \\"hi\\" \\\\ \\\xe9 \\\t";b\r\nhello\r\n0\r\n\r\n',
  ];
  for (const input of cases) {
    assert.deepEqual(decode(input), { data: "hello", done: true, consumed: input.length }, input);
  }
});

Deno.test("chunked: extensions outside the grammar are ParseErrors", () => {
  const bad: [string, string][] = [
    ["trailing SP after the size", "5 "],
    ["trailing HTAB after the size", "5\t"],
    ["trailing SP after a name", "5;a "],
    ["trailing SP after a value", "5;a=1 "],
    ["trailing SP after a quoted value", '5;a="x" '],
    ["no semicolon", "5 a"],
    ["empty extension", "5;"],
    ["empty extension between two", "5;a;;b"],
    ["empty extension after BWS", "5; ;a"],
    ["empty name", "5;=1"],
    ["empty value", "5;a="],
    ["empty value before the next", "5;a=;b"],
    ["empty value then BWS", "5;a= "],
    ["space inside a name", "5;a b"],
    ["non-tchar in a name", "5;a@b"],
    ["obs-text in a name", "5;caf\xe9"],
    ["quoted name", '5;"a"=1'],
    ["non-tchar in a token value", "5;a=b@c"],
    ["obs-text in a token value", "5;x=caf\xe9"],
    ["space inside a token value", "5;a=b c"],
    ["second =", "5;a=1=2"],
    ["comma instead of ;", "5;a=1,b=2"],
    ["text after a quoted value", '5;a="x"y'],
    ["unterminated quoted string", '5;a="x'],
    ["quote ending in a backslash", '5;a="x\\'],
    ["quoted-pair escaping the closing quote only", '5;a="x\\"'],
    ["NUL in a quoted string", '5;a="\x00"'],
    ["SOH in a quoted string", '5;a="\x01"'],
    ["DEL in a quoted string", '5;a="\x7f"'],
    ["control byte in a quoted-pair", '5;a="\\\x01"'],
    ["control byte in a token value", "5;a=\x01"],
    ["DEL in a token value", "5;a=\x7f"],
    ["VT as BWS", "5\x0b;a"],
    ["size then letters", "5x"],
    ["extension on the last chunk", "5\r\nhello\r\n0;a b"],
  ];
  for (const [what, line] of bad) {
    const input = line.includes("\r\n") ? line + "\r\n\r\n" : line + "\r\nhello\r\n0\r\n\r\n";
    assert.throws(() => decode(input), ParseError, what);
  }
});

Deno.test("chunked: valid trailers end the body and are not data", () => {
  const input = "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: abc\r\nX-Empty:\r\n\r\n";
  assert.deepEqual(decode(input), { data: "hello", done: true, consumed: input.length });
  // A trailer section of exactly 16 KiB (counting CRLFs), in lines at the line limit, is fine.
  const line = (i: number) => `X-${i}: ${"a".repeat(4094 - 5)}\r\n`;
  const big = "0\r\n" + [0, 1, 2, 3].map(line).join("") + "\r\n";
  assert.equal(decode(big).done, true);
});

Deno.test("chunked: invalid trailers are ParseErrors", () => {
  const bad = [
    "0\r\n folded\r\n\r\n",
    "0\r\nNo colon here\r\n\r\n",
    "0\r\nA : b\r\n\r\n",
    "0\r\nA(: b\r\n\r\n",
    "0\r\nA: b\x01\r\n\r\n",
    "0\r\nA: b\x7f\r\n\r\n",
    "0\r\n: b\r\n\r\n",
    // Over 16 KiB of trailers, in lines each under the line limit.
    "0\r\n" + `X-1: ${"a".repeat(4000)}\r\n`.repeat(5) + "\r\n",
  ];
  for (const input of bad) {
    assert.throws(() => decode(input), ParseError, JSON.stringify(input.slice(0, 40)));
  }
});

Deno.test("chunked: data not followed by CRLF is a ParseError", () => {
  const bad = [
    "5\r\nhelloX\r\n0\r\n\r\n",
    "5\r\nhello0\r\n\r\n",
    "5\r\nhello \r\n0\r\n\r\n",
    "5\r\nhello\r\r\n0\r\n\r\n",
    "3\r\nhello\r\n0\r\n\r\n",
  ];
  for (const input of bad) assert.throws(() => decode(input), ParseError, JSON.stringify(input));
});

Deno.test("chunked: bare LF and bare CR are ParseErrors wherever they are", () => {
  const bad = [
    "5\nhello\r\n0\r\n\r\n",
    "5\r\nhello\n0\r\n\r\n",
    "5\r\nhello\r\n0\n\r\n",
    "5\r\nhello\r\n0\r\n\n",
    "0\r\nA: b\n\r\n",
    "\n",
    "5\r\r\nhello\r\n0\r\n\r\n",
    "5;a\rb\r\nhello\r\n0\r\n\r\n",
    "0\r\nA: b\rc\r\n\r\n",
  ];
  for (const input of bad) assert.throws(() => decode(input), ParseError, JSON.stringify(input));
});

Deno.test("chunked: invalid and oversized chunk sizes are ParseErrors", () => {
  const bad = [
    "\r\n",
    "g\r\n",
    "-1\r\n",
    "+5\r\n",
    "0x5\r\n",
    " 5\r\n",
    "5 5\r\n",
    ";ext\r\n",
    "5;a=\x01\r\nhello\r\n0\r\n\r\n",
    "5;a=\x7f\r\nhello\r\n0\r\n\r\n",
    "5x\r\nhello\r\n0\r\n\r\n",
    // Leading zeros count: 14 digits are refused even if the value is small.
    "00000000000005\r\nhello\r\n0\r\n\r\n",
    // 14 hex digits: more than 2^53 bytes can't be counted exactly.
    "10000000000000\r\n",
    "fffffffffffffff\r\n",
  ];
  for (const input of bad) assert.throws(() => decode(input), ParseError, JSON.stringify(input));
  // 13 digits is the most accepted: it then waits for that much data.
  assert.deepEqual(decode("fffffffffffff\r\nabc"), { data: "abc", done: false, consumed: 18 });
});

Deno.test("chunked: an over-long size or trailer line is rejected before its end arrives", () => {
  // A backend must not make the decoder buffer an unbounded line.
  const longExt = "5;" + "a".repeat(5000);
  assert.throws(() => decode(longExt), ParseError, "no CRLF yet");
  assert.throws(() => decode(longExt, [100, 2000, 4000]), ParseError, "in pieces");
  assert.throws(() => decode(longExt + "\r\nhello\r\n0\r\n\r\n"), ParseError);
  assert.throws(() => decode("0\r\nX-Long: " + "b".repeat(5000)), ParseError, "trailer line");
  // A line under the limit is fine.
  const ok = "5;" + "a".repeat(4000) + "\r\nhello\r\n0\r\n\r\n";
  assert.equal(decode(ok).data, "hello");
});

Deno.test("chunked: incomplete input is not done and consumes everything given", () => {
  for (
    const input of [
      "5",
      "5\r",
      "5\r\n",
      "5\r\nhel",
      "5\r\nhello",
      "5\r\nhello\r\n0\r\n",
      "0\r\nA: b",
    ]
  ) {
    const r = decode(input);
    assert.equal(r.done, false, input);
    assert.equal(r.consumed, input.length, input);
  }
  assert.equal(decode("5\r\nhel").data, "hel", "data is handed out as it arrives");
});

Deno.test("chunked: bytes after the terminating CRLF are not consumed", () => {
  const body = "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
  const next = "HTTP/1.1 200 OK\r\n\r\n";
  assert.deepEqual(decode(body + next), { data: "hello", done: true, consumed: body.length });
  // Once done, further input is left alone and no data is emitted.
  const decoder = new ChunkedDecoder();
  const done = latin1Bytes("0\r\n\r\n");
  assert.equal(decoder.decode(done, 0, done.length, () => {}), done.length);
  assert.equal(decoder.done, true);
  const more = latin1Bytes("5\r\nhello\r\n");
  let emitted = 0;
  assert.equal(decoder.decode(more, 0, more.length, () => emitted++), 0);
  assert.equal(emitted, 0);
  // An empty input consumes nothing.
  const fresh = new ChunkedDecoder();
  assert.equal(fresh.decode(more, 0, 0, () => {}), 0);
  assert.equal(fresh.done, false);
});

Deno.test("chunked: split at every byte boundary decodes the same", () => {
  const encodings = [
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "A;ext=1\r\n0123456789\r\n0;x\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\n",
    '3 ; a = "q\\"\xe9" ;b\r\nabc\r\n0\r\n\r\n',
    "1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n",
    "0\r\n\r\n",
    "3\r\n\xe9\xff\x80\r\n0\r\n\r\n",
  ];
  for (const input of encodings) {
    const whole = decode(input);
    assert.equal(whole.done, true);
    for (let cut = 1; cut < input.length; cut++) {
      assert.deepEqual(decode(input, [cut]), whole, `${JSON.stringify(input)} at ${cut}`);
    }
    // And one byte at a time.
    const bytewise = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(decode(input, bytewise), whole);
  }
});

Deno.test("chunked: malformed encodings split at every byte boundary are still rejected", () => {
  const malformed = [
    "5\r\nhelloX\r\n0\r\n\r\n",
    "5\nhello\r\n0\r\n\r\n",
    "0\r\nA : b\r\n\r\n",
    '5;a="x\r\nhello\r\n0\r\n\r\n',
    "5;a \r\nhello\r\n0\r\n\r\n",
  ];
  for (const input of malformed) {
    for (let cut = 1; cut < input.length; cut++) {
      assert.throws(() => decode(input, [cut]), ParseError, `${JSON.stringify(input)} at ${cut}`);
    }
  }
});

Deno.test("chunked: data views cover only the data, in order, across chunks", () => {
  const input = latin1Bytes("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  const views: string[] = [];
  new ChunkedDecoder().decode(input, 0, input.length, (d) => views.push(latin1Text(d)));
  assert.deepEqual(views, ["abc", "de"]);
});

Deno.test({
  // Regression (fixed in 43a6d0f): with `start > 0`, `decode` returned the
  // index reached, not the documented count of bytes consumed. client.ts
  // `bodyReader` does `c.start += used`, so when a chunked body's first bytes
  // shared a read with the response head (c.start > 0), c.start ran past
  // c.end and the reader looped forever without awaiting: a 100% CPU hang of
  // the whole process (reproduced through H1Transport against backend.ts
  // /stream; socket regression tests in h1_transport_test.ts and
  // h1_differential_test.ts).
  name: "chunked: decode returns the count consumed also when start > 0",
  fn() {
    const prefix = "HTTP/1.1 200 OK\r\n\r\n"; // already consumed by the head parser
    const partial = latin1Bytes(prefix + "5\r\nhello\r\n6\r\n wor");
    const decoder = new ChunkedDecoder();
    const n = decoder.decode(partial, prefix.length, partial.length, () => {});
    assert.equal(n, partial.length - prefix.length); // actual: partial.length
    const complete = latin1Bytes(prefix + "0\r\n\r\nnext");
    const fresh = new ChunkedDecoder();
    assert.equal(fresh.decode(complete, prefix.length, complete.length, () => {}), 5);
    assert.equal(new ChunkedDecoder().decode(complete, 3, 3, () => {}), 0);
  },
});
