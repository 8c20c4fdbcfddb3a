/**
 * Access-log formats on fixed records: NGINX's combined and the Common Log
 * Format byte for byte (escaping as NGINX's `ngx_http_log_escape`, `-` for
 * what is missing), JSON lines with a chosen field set (escaping, `null`,
 * bytes decoded as UTF-8), templates and their errors, and the timestamps
 * on a fixed clock and time zone.
 */

import assert from "node:assert/strict";
import { accessFormatter, jsonFormatter } from "../../lib/core/access_format.ts";
import { bytesToText, escapeNginx, jsonString } from "../../lib/core/access_escape.ts";
import {
  ACCESS_FIELD_NAMES,
  type AccessRecord,
  DEFAULT_JSON_FIELDS,
} from "../../lib/core/access_record.ts";
import { parseAccessTemplate } from "../../lib/core/access_template.ts";
import { clfTime, LogClock } from "../../lib/core/access_time.ts";

/** 2026-12-02T06:01:22.045Z */
const T = Date.UTC(2026, 11, 2, 6, 1, 22, 45);
const utc = () => new LogClock(() => 0);

const BASE: AccessRecord = {
  method: "GET",
  path: "/a?b=1",
  status: 200,
  route: "api",
  pool: "web",
  backend: "http://10.0.0.1:80",
  durationMs: 12.5,
  bytes: 2,
  client: "192.0.2.1",
  time: T,
  protocol: "HTTP/1.1",
  host: "site.test",
  userAgent: "curl/8.0",
  referer: "http://ref.test/",
};

function record(over: Partial<AccessRecord> = {}): AccessRecord {
  return { ...BASE, ...over };
}

const combined = (r: AccessRecord) =>
  accessFormatter({ format: "combined", fields: [], template: "" }, utc())(r);
const common = (r: AccessRecord) =>
  accessFormatter({ format: "common", fields: [], template: "" }, utc())(r);

Deno.test("combined: NGINX's line, field for field", () => {
  assert.equal(
    combined(record()),
    '192.0.2.1 - - [02/Dec/2026:06:01:22 +0000] "GET /a?b=1 HTTP/1.1" 200 2 "http://ref.test/" "curl/8.0"',
  );
  assert.equal(
    combined(record({ user: "ann", referer: undefined, userAgent: undefined, bytes: 0 })),
    '192.0.2.1 - ann [02/Dec/2026:06:01:22 +0000] "GET /a?b=1 HTTP/1.1" 200 0 "-" "-"',
  );
  // A field sent empty is "" as NGINX writes it; only a missing one is "-".
  assert.equal(
    combined(record({ referer: "", protocol: "HTTP/1.0", status: 499 })),
    '192.0.2.1 - - [02/Dec/2026:06:01:22 +0000] "GET /a?b=1 HTTP/1.0" 499 2 "" "curl/8.0"',
  );
});

Deno.test("combined: quotes, backslashes, controls and high bytes are \\xHH, so no line can be forged", () => {
  // The same bytes NGINX 1.22 was sent, and the line it wrote for them.
  const line = combined(record({
    path: '/a"b\\c?x=1',
    referer: "",
    userAgent: 'evil" "\x01\x7f\xc3\xa9',
  }));
  assert.equal(
    line,
    '192.0.2.1 - - [02/Dec/2026:06:01:22 +0000] "GET /a\\x22b\\x5Cc?x=1 HTTP/1.1" 200 2 "" ' +
      '"evil\\x22 \\x22\\x01\\x7F\\xC3\\xA9"',
  );
  const forged = combined(
    record({ userAgent: 'x"\n127.0.0.1 - admin [01/Jan/2026:00:00:00 +0000] "GET' }),
  );
  assert.ok(!forged.includes("\n"));
  assert.equal(forged.split('"').length, 7, "three quoted fields, nothing more");
  // The user is text (UTF-8), not bytes: é is two escaped bytes.
  assert.match(combined(record({ user: "zoé" })), / - zo\\xC3\\xA9 \[/);
});

Deno.test("common: the combined line without referer and user agent", () => {
  assert.equal(
    common(record()),
    '192.0.2.1 - - [02/Dec/2026:06:01:22 +0000] "GET /a?b=1 HTTP/1.1" 200 2',
  );
});

Deno.test("escapeNginx and jsonString on edge cases", () => {
  assert.equal(escapeNginx("plain text 1.2/3", true), "plain text 1.2/3");
  assert.equal(escapeNginx("\t\r\n", true), "\\x09\\x0D\\x0A");
  assert.equal(escapeNginx("\xff", true), "\\xFF");
  assert.equal(escapeNginx("\xff", false), "\\xC3\\xBF");
  assert.equal(escapeNginx("😀", false), "\\xF0\\x9F\\x98\\x80");
  assert.equal(escapeNginx("\ud800", false), "\\xEF\\xBF\\xBD"); // a lone surrogate as U+FFFD
  assert.equal(jsonString("plain"), '"plain"');
  assert.equal(jsonString('a"b\\c\n\x00'), '"a\\"b\\\\c\\n\\u0000"');
  assert.equal(jsonString("\x7f\x85\u2028\u2029"), '"\\u007f\\u0085\\u2028\\u2029"');
  assert.equal(jsonString("\ud800x"), '"\\ud800x"');
  assert.equal(jsonString("😀é"), '"😀é"');
  assert.equal(bytesToText("caf\xc3\xa9"), "café");
  assert.equal(bytesToText("caf\xe9"), "caf\ufffd");
  assert.equal(bytesToText("café ✓"), "café ✓", "already text");
});

Deno.test("json: every field, in the chosen order, with null for what is missing", () => {
  const all = jsonFormatter(ACCESS_FIELD_NAMES, utc());
  const parsed = JSON.parse(all(record({ requestId: "r-1" })));
  assert.deepEqual(parsed, {
    time: "2026-12-02T06:01:22.045Z",
    time_local: "02/Dec/2026:06:01:22 +0000",
    client: "192.0.2.1",
    user: null,
    method: "GET",
    path: "/a?b=1",
    protocol: "HTTP/1.1",
    request: "GET /a?b=1 HTTP/1.1",
    status: 200,
    bytes: 2,
    duration_ms: 12.5,
    host: "site.test",
    referer: "http://ref.test/",
    user_agent: "curl/8.0",
    route: "api",
    pool: "web",
    backend: "http://10.0.0.1:80",
    request_id: "r-1",
    explain: null,
  });
  assert.deepEqual(Object.keys(parsed), ACCESS_FIELD_NAMES);
  const some = jsonFormatter(["status", "path", "time"], utc());
  assert.equal(some(record()), '{"status":200,"path":"/a?b=1","time":"2026-12-02T06:01:22.045Z"}');
  const missing = JSON.parse(
    jsonFormatter(["host", "referer", "user_agent", "user", "request_id"])(
      record({ host: "", referer: undefined, userAgent: undefined }),
    ),
  );
  assert.deepEqual(missing, {
    host: null,
    referer: null,
    user_agent: null,
    user: null,
    request_id: null,
  });
  assert.ok(
    !DEFAULT_JSON_FIELDS.includes("time_local") && !DEFAULT_JSON_FIELDS.includes("request"),
  );
});

Deno.test("json: a hostile field stays one valid line, and bytes read as UTF-8", () => {
  const line = jsonFormatter(["user_agent", "path"])(
    record({ userAgent: 'a"}\n{"status":500\u2028\x1b[31m', path: "/caf\xc3\xa9" }),
  );
  for (const c of ["\n", "\r", "\u2028", "\x1b"]) assert.ok(!line.includes(c), line);
  assert.deepEqual(JSON.parse(line), {
    user_agent: 'a"}\n{"status":500\u2028\x1b[31m',
    path: "/café",
  });
});

Deno.test("template: variables, ${} and $$, with NGINX's escaping and '-'", () => {
  const parts = parseAccessTemplate('$client - $user [$time] "$method $path" $status $bytes');
  assert.ok(Array.isArray(parts));
  const f = accessFormatter({
    format: "template",
    fields: [],
    template: '${route}ms=$duration_ms $$5 id=$request_id "$user_agent" $host',
  }, utc());
  assert.equal(f(record({ userAgent: 'q"' })), 'apims=12.5 $5 id=- "q\\x22" site.test');
  const brief = accessFormatter({
    format: "template",
    fields: [],
    template: '$client - $user [$time] "$method $path" $status $bytes',
  }, utc());
  assert.equal(
    brief(record({ user: "ann" })),
    '192.0.2.1 - ann [2026-12-02T06:01:22.045Z] "GET /a?b=1" 200 2',
  );
});

Deno.test("template: unknown variables, a stray $ and control characters are refused", () => {
  assert.match(
    String(parseAccessTemplate("$client $nope")),
    /^unknown variable \$nope \(expected one of \$time, /,
  );
  assert.match(String(parseAccessTemplate("${status")), /a \$ at offset 0 starts no variable/);
  assert.match(String(parseAccessTemplate("cost $ 5")), /a \$ at offset 5 starts no variable/);
  assert.match(String(parseAccessTemplate("a ${}")), /a \$ at offset 2 starts no variable/);
  assert.match(
    String(parseAccessTemplate("a\tb")),
    /control character \(U\+0009\); a template is one line/,
  );
  assert.equal(parseAccessTemplate("  "), "must not be empty");
  assert.deepEqual(parseAccessTemplate("$$$status$$"), [{ text: "$" }, { field: "status" }, {
    text: "$",
  }]);
});

Deno.test("timestamps: CLF local time with its offset, ISO in UTC with milliseconds", () => {
  assert.equal(clfTime(T, 0), "02/Dec/2026:06:01:22 +0000");
  assert.equal(clfTime(T, 120), "02/Dec/2026:08:01:22 +0200");
  assert.equal(clfTime(T, -570), "01/Dec/2026:20:31:22 -0930");
  const clock = new LogClock(() => 60);
  assert.equal(clock.local(T), "02/Dec/2026:07:01:22 +0100");
  assert.equal(clock.iso(T), "2026-12-02T06:01:22.045Z");
  // Same second, other milliseconds: the cached prefix with new digits.
  assert.equal(clock.iso(T + 900), "2026-12-02T06:01:22.945Z");
  assert.equal(clock.iso(T + 955), "2026-12-02T06:01:23.000Z");
  assert.equal(clock.local(T + 955), "02/Dec/2026:07:01:23 +0100");
});
