import assert from "node:assert/strict";
import {
  h2loadArgs,
  h2loadErrors,
  h2loadFailure,
  parseH2loadOutput,
  parseH2loadTime,
} from "../scripts/bench/h2load.ts";

/** Floating-point equality to a relative 1e-9. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= Math.abs(expected) * 1e-9,
    `${what}: ${actual} != ${expected}`,
  );
}

const PROGRESS = Array.from({ length: 10 }, (_, i) => `progress: ${(i + 1) * 10}% done`).join("\n");

// Real output of h2load (nghttp2 1.52.0, Debian) against NGINX 1.22 `listen … ssl http2` on loopback.
const NGINX_H2 = `starting benchmark...
spawning thread #0: 16 total client(s). 40000 total requests
TLS Protocol: TLSv1.2
Cipher: ECDHE-ECDSA-AES128-GCM-SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2
${PROGRESS}

finished in 1.38s, 29052.29 req/s, 4.66MB/s
requests: 40000 total, 40000 started, 40000 done, 40000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 40000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 6.41MB (6720784) total, 1.91MB (2000000) headers (space savings 50.00%), 3.81MB (4000000) data
                     min         max         mean         sd        +/- sd
time for request:      305us     17.62ms      5.31ms      1.96ms    78.03%
time for connect:    12.32ms     13.78ms     13.15ms       464us    56.25%
time to 1st byte:    14.89ms     26.06ms     21.95ms      3.57ms    81.25%
req/s           :    1817.05     1849.79     1825.20        9.02    87.50%
`;

// Real output against a TLS listener without h2 in its ALPN: h2load falls back to HTTP/1.1
// (and this backend answered 502).
const HTTP11_FALLBACK = `starting benchmark...
spawning thread #0: 2 total client(s). 100 total requests
TLS Protocol: TLSv1.2
Cipher: ECDHE-ECDSA-AES128-GCM-SHA256
Server Temp Key: X25519 253 bits
Application protocol: http/1.1
${PROGRESS}

finished in 12.16ms, 8225.04 req/s, 2.46MB/s
requests: 100 total, 100 started, 100 done, 0 succeeded, 100 failed, 0 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 100 5xx
traffic: 30.66KB (31400) total, 10.64KB (10900) headers (space savings 0.00%), 15.33KB (15700) data
                     min         max         mean         sd        +/- sd
time for request:       68us      1.23ms       150us       121us    96.00%
time for connect:     3.20ms      3.88ms      3.54ms       478us   100.00%
time to 1st byte:     4.28ms      4.44ms      4.36ms       113us   100.00%
req/s           :    4280.06     4707.31     4493.69      302.11   100.00%
`;

// Real output against a closed port: no protocol line, every request errored; h2load exits 0.
const REFUSED = `starting benchmark...
spawning thread #0: 2 total client(s). 100 total requests

finished in 479us, 0.00 req/s, 0B/s
requests: 100 total, 0 started, 0 done, 0 succeeded, 100 failed, 100 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 0B (0) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :       0.00        0.00        0.00        0.00   100.00%
`;

Deno.test("parseH2loadOutput: a clean h2 run", () => {
  const r = parseH2loadOutput(NGINX_H2);
  assert.equal(r.protocol, "h2");
  near(r.durationMs, 1380, "finished in");
  near(r.requestsPerSec, 29052.29, "req/s");
  assert.deepEqual(r.requests, {
    total: 40000,
    started: 40000,
    done: 40000,
    succeeded: 40000,
    failed: 0,
    errored: 0,
    timeout: 0,
  });
  assert.deepEqual(r.status, { "2xx": 40000, "3xx": 0, "4xx": 0, "5xx": 0 });
  near(r.request.minMs, 0.305, "request min");
  near(r.request.maxMs, 17.62, "request max");
  near(r.request.meanMs, 5.31, "request mean");
  near(r.request.sdMs, 1.96, "request sd");
  near(r.connect.sdMs, 0.464, "connect sd");
  near(r.firstByte.meanMs, 21.95, "first byte mean");
  assert.equal(h2loadFailure(r), undefined);
  assert.equal(h2loadErrors(r), 0);
});

Deno.test("parseH2loadOutput: an HTTP/1.1 fallback is a failed run", () => {
  const r = parseH2loadOutput(HTTP11_FALLBACK);
  assert.equal(r.protocol, "http/1.1");
  near(r.durationMs, 12.16, "finished in");
  assert.equal(r.status["5xx"], 100);
  near(r.request.meanMs, 0.15, "mean");
  assert.match(h2loadFailure(r) ?? "", /negotiated http\/1\.1, not h2/);
  assert.equal(h2loadErrors(r), 100);
});

Deno.test("parseH2loadOutput: nothing connected", () => {
  const r = parseH2loadOutput(REFUSED);
  assert.equal(r.protocol, undefined);
  near(r.durationMs, 0.479, "finished in");
  assert.equal(r.requestsPerSec, 0);
  assert.equal(r.requests.errored, 100);
  assert.equal(h2loadFailure(r), "no request succeeded (100 failed, 100 errored)");
  assert.equal(h2loadErrors(r), 100);
});

Deno.test("parseH2loadOutput: CRLF line ends", () => {
  const r = parseH2loadOutput(NGINX_H2.replaceAll("\n", "\r\n"));
  near(r.requestsPerSec, 29052.29, "req/s");
  near(r.request.meanMs, 5.31, "mean");
});

Deno.test("parseH2loadOutput: output of an h2load that did not run is rejected, quoted", () => {
  const usage = "h2load: invalid option -- 'x'\nUsage: h2load [OPTIONS]... [URI]...\n";
  assert.throws(() => parseH2loadOutput(usage), /no "finished in" line:\nh2load: invalid option/);
  const cut = NGINX_H2.slice(0, NGINX_H2.indexOf("time for request"));
  assert.throws(() => parseH2loadOutput(cut), /no "time for request" line/);
});

Deno.test("parseH2loadTime converts us, ms and s", () => {
  near(parseH2loadTime("305us"), 0.305, "us");
  near(parseH2loadTime("17.62ms"), 17.62, "ms");
  near(parseH2loadTime("1.38s"), 1380, "s");
  assert.equal(parseH2loadTime("0us"), 0);
  assert.throws(() => parseH2loadTime("5"), /not an h2load duration: "5"/);
  assert.throws(() => parseH2loadTime("1m"), /not an h2load duration/);
});

Deno.test("h2loadArgs is -n -c -m then the URL", () => {
  assert.deepEqual(
    h2loadArgs({ url: "https://127.0.0.1:1/", requests: 40000, clients: 16, streams: 10 }),
    ["-n", "40000", "-c", "16", "-m", "10", "https://127.0.0.1:1/"],
  );
});
