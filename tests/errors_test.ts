import assert from "node:assert/strict";
import {
  BadRequestError,
  CLIENT_CLOSED_STATUS,
  errorResponse,
  NoBackendError,
  statusFor,
} from "../lib/proxy/errors.ts";
import { ClientAbortError, UpstreamError } from "../lib/core/transport.ts";

const INTERNAL = "connect ECONNREFUSED 127.0.0.1:8081";

const STATUSES: [string, unknown, number][] = [
  ["connect_refused", new UpstreamError("connect_refused", INTERNAL), 502],
  ["connect_error", new UpstreamError("connect_error", INTERNAL), 502],
  ["reset", new UpstreamError("reset", INTERNAL), 502],
  ["protocol", new UpstreamError("protocol", INTERNAL), 502],
  ["connect_timeout", new UpstreamError("connect_timeout", INTERNAL), 504],
  ["response_timeout", new UpstreamError("response_timeout", INTERNAL), 504],
  ["pool_timeout", new UpstreamError("pool_timeout", INTERNAL), 503],
  ["NoBackendError", new NoBackendError(), 503],
  ["BadRequestError", new BadRequestError("missing Host header"), 400],
  ["ClientAbortError", new ClientAbortError(), 499],
  ["an unknown Error", new Error(INTERNAL), 502],
  ["a thrown string", INTERNAL, 502],
  ["undefined", undefined, 502],
];

for (const [name, err, status] of STATUSES) {
  Deno.test(`statusFor(${name}) is ${status}`, () => {
    assert.equal(statusFor(err), status);
  });
}

Deno.test("CLIENT_CLOSED_STATUS is nginx's 499", () => {
  assert.equal(CLIENT_CLOSED_STATUS, 499);
});

for (const [name, err, status] of STATUSES) {
  Deno.test(`errorResponse(${name}): ${status}, short plain-text body with no internals`, async () => {
    const res = errorResponse(err, 7);
    assert.equal(res.status, status);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    const body = await res.text();
    assert.ok(body.length > 0 && body.length <= 80, `body is short: ${JSON.stringify(body)}`);
    assert.ok(body.endsWith("\n"));
    assert.ok(!body.includes("127.0.0.1"), body);
    assert.ok(!body.includes("ECONNREFUSED"), body);
    assert.ok(!/\bat /.test(body), `no stack: ${body}`);
  });
}

Deno.test("errorResponse bodies name the status", async () => {
  const bodies: [unknown, string][] = [
    [new UpstreamError("connect_refused", INTERNAL), "Bad Gateway\n"],
    [new UpstreamError("response_timeout", INTERNAL), "Gateway Timeout\n"],
    [new NoBackendError(), "Service Unavailable\n"],
  ];
  for (const [err, text] of bodies) assert.equal(await errorResponse(err, 1).text(), text);
});

Deno.test("errorResponse: 503 carries Retry-After with the given seconds", async () => {
  const res = errorResponse(new NoBackendError(), 5);
  assert.equal(res.headers.get("retry-after"), "5");
  await res.body?.cancel();
});

Deno.test("errorResponse: other statuses carry no Retry-After", async () => {
  for (const err of [new UpstreamError("reset", "x"), new BadRequestError("x")]) {
    const res = errorResponse(err, 5);
    assert.equal(res.headers.get("retry-after"), null);
    await res.body?.cancel();
  }
});

Deno.test("errorResponse: 400 tells the client what was wrong with its request", async () => {
  const res = errorResponse(new BadRequestError("missing Host header"), 1);
  assert.equal(res.status, 400);
  assert.equal(await res.text(), "Bad Request: missing Host header\n");
});
