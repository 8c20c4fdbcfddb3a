import assert from "node:assert/strict";
import {
  errorCount,
  parseWrkBytes,
  parseWrkMetric,
  parseWrkOutput,
  parseWrkTime,
  uploadLua,
  wrkArgs,
} from "../scripts/bench/wrk.ts";

/** Floating-point equality to a relative 1e-9. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= Math.abs(expected) * 1e-9,
    `${what}: ${actual} != ${expected}`,
  );
}

// Real output of wrk 4.1.0 (Debian) against nginx on loopback: microsecond latencies, no errors.
const CLEAN_US = `Running 2s test @ http://127.0.0.1:18001/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   166.90us  109.92us   3.49ms   97.33%
    Req/Sec   229.27k    11.78k  239.57k    85.71%
  Latency Distribution
     50%  132.00us
     75%  208.00us
     90%  251.00us
     99%  345.00us
  478734 requests in 2.10s, 113.68MB read
Requests/sec: 227943.28
Transfer/sec:     54.13MB
`;

// Millisecond latencies, error statuses, KB read.
const NON2XX_MS = `Running 2s test @ http://127.0.0.1:18001/upload
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.80ms    0.90ms   9.85ms   66.73%
    Req/Sec     5.27k   357.35     6.07k    75.00%
  Latency Distribution
     50%    1.70ms
     75%    2.39ms
     90%    3.02ms
     99%    3.77ms
  10555 requests in 2.01s, 1.51MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   5245.08
Transfer/sec:    768.32KB
`;

// Second-range latencies with socket errors and error statuses, as at 1,000 connections.
const SOCKET_ERRORS_S = `Running 5s test @ http://127.0.0.1:8080/
  2 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.40ms  401.10ms    1.99s    71.20%
    Req/Sec   812.50    210.33     1.30k    68.00%
  Latency Distribution
     50%  540.12ms
     75%  800.00ms
     90%    1.20s
     99%    1.87s
  8125 requests in 5.01s, 1.02GB read
  Socket errors: connect 3, read 17, write 0, timeout 42
  Non-2xx or 3xx responses: 5
Requests/sec:   1621.76
Transfer/sec:    208.50MB
`;

// Socket errors only (no error statuses), minute-long run.
const SOCKET_ONLY = `Running 1m test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    20.00ms    1.00ms   50.00ms   90.00%
    Req/Sec     3.20k   100.00     3.40k    80.00%
  Latency Distribution
     50%   19.50ms
     75%   20.50ms
     90%   21.00ms
     99%   30.00ms
  192000 requests in 1.00m, 27.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 0
Requests/sec:   3199.50
Transfer/sec:    460.80KB
`;

Deno.test("parseWrkOutput: microsecond latencies, no error lines", () => {
  const r = parseWrkOutput(CLEAN_US);
  near(r.requestsPerSec, 227943.28, "req/s");
  assert.equal(r.requests, 478734);
  near(r.durationMs, 2100, "duration");
  near(r.bytesRead, 113.68 * 1024 * 1024, "bytes");
  near(r.latencyAvgMs, 0.1669, "avg");
  near(r.latencyMaxMs, 3.49, "max");
  near(r.percentilesMs[50], 0.132, "p50");
  near(r.percentilesMs[75], 0.208, "p75");
  near(r.percentilesMs[90], 0.251, "p90");
  near(r.percentilesMs[99], 0.345, "p99");
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(r.non2xx, 0);
  assert.equal(errorCount(r), 0);
});

Deno.test("parseWrkOutput: millisecond latencies with a Non-2xx line", () => {
  const r = parseWrkOutput(NON2XX_MS);
  near(r.requestsPerSec, 5245.08, "req/s");
  near(r.percentilesMs[50], 1.7, "p50");
  near(r.percentilesMs[99], 3.77, "p99");
  near(r.bytesRead, 1.51 * 1024 * 1024, "bytes");
  assert.equal(r.non2xx, 12);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(errorCount(r), 12);
});

Deno.test("parseWrkOutput: second latencies with Socket errors and Non-2xx lines", () => {
  const r = parseWrkOutput(SOCKET_ERRORS_S);
  near(r.requestsPerSec, 1621.76, "req/s");
  near(r.percentilesMs[50], 540.12, "p50");
  near(r.percentilesMs[90], 1200, "p90");
  near(r.percentilesMs[99], 1870, "p99");
  near(r.latencyMaxMs, 1990, "max");
  near(r.durationMs, 5010, "duration");
  near(r.bytesRead, 1.02 * 1024 ** 3, "bytes");
  assert.deepEqual(r.socketErrors, { connect: 3, read: 17, write: 0, timeout: 42 });
  assert.equal(r.non2xx, 5);
  assert.equal(errorCount(r), 67);
});

Deno.test("parseWrkOutput: Socket errors without a Non-2xx line; minute durations", () => {
  const r = parseWrkOutput(SOCKET_ONLY);
  near(r.durationMs, 60_000, "duration");
  near(r.percentilesMs[99], 30, "p99");
  assert.deepEqual(r.socketErrors, { connect: 0, read: 2, write: 0, timeout: 0 });
  assert.equal(r.non2xx, 0);
  assert.equal(errorCount(r), 2);
});

Deno.test("parseWrkOutput: the same figures with CRLF line ends", () => {
  const r = parseWrkOutput(SOCKET_ERRORS_S.replaceAll("\n", "\r\n"));
  near(r.requestsPerSec, 1621.76, "req/s");
  near(r.percentilesMs[99], 1870, "p99");
  assert.equal(errorCount(r), 67);
});

Deno.test("parseWrkOutput: output without --latency is rejected", () => {
  const noLatency = CLEAN_US.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}478734)/, "");
  assert.throws(() => parseWrkOutput(noLatency), /no latency distribution/);
});

Deno.test("parseWrkOutput: a run that never started is rejected, quoting the output", () => {
  const failed = "unable to connect to 127.0.0.1:18001 Connection refused\n";
  assert.throws(() => parseWrkOutput(failed), /no Requests\/sec line:\nunable to connect/);
});

Deno.test("parseWrkTime converts every wrk unit to milliseconds", () => {
  near(parseWrkTime("635.00us"), 0.635, "us");
  near(parseWrkTime("1.48ms"), 1.48, "ms");
  near(parseWrkTime("2.01s"), 2010, "s");
  near(parseWrkTime("1.50m"), 90_000, "m");
  near(parseWrkTime("1.00h"), 3_600_000, "h");
  assert.ok(Number.isNaN(parseWrkTime("-nanus")));
  assert.throws(() => parseWrkTime("12"), /not a wrk time: "12"/);
  assert.throws(() => parseWrkTime("3ns"), /not a wrk time/);
});

Deno.test("parseWrkMetric and parseWrkBytes read SI and binary suffixes", () => {
  near(parseWrkMetric("98.91k"), 98_910, "k");
  near(parseWrkMetric("1.30M"), 1_300_000, "M");
  near(parseWrkMetric("357.35"), 357.35, "plain");
  near(parseWrkBytes("733.45KB"), 733.45 * 1024, "KB");
  near(parseWrkBytes("512.00B"), 512, "B");
  assert.throws(() => parseWrkMetric("1x"), /not a wrk number/);
  assert.throws(() => parseWrkBytes("1.0XB"), /not a wrk byte count/);
});

Deno.test("wrkArgs always asks for latency percentiles", () => {
  assert.deepEqual(
    wrkArgs({ url: "http://127.0.0.1:1/", connections: 64, threads: 1, seconds: 5 }),
    ["--latency", "-t1", "-c64", "-d5s", "http://127.0.0.1:1/"],
  );
  assert.deepEqual(
    wrkArgs({ url: "http://h/u", connections: 16, threads: 2, seconds: 3, script: "/t/u.lua" }),
    ["--latency", "-t2", "-c16", "-d3s", "-s", "/t/u.lua", "http://h/u"],
  );
});

Deno.test("uploadLua sets method, body and Content-Length", () => {
  const lua = uploadLua(1048576);
  assert.match(lua, /^wrk\.method = "POST"$/m);
  assert.match(lua, /^wrk\.body = string\.rep\("x", 1048576\)$/m);
  assert.match(lua, /^wrk\.headers\["Content-Length"\] = tostring\(#wrk\.body\)$/m);
});
