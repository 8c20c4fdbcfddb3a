/**
 * Request IDs: the pure choice (kept only from a trusted peer, only when
 * well formed), the policy's fields upstream and back, and the whole lb —
 * a real process in front of a real backend, with and without
 * `--trust-proxy`, the ID echoed, sent upstream and in the JSON access
 * log; in-process, in the `onLog` record.
 */

import assert from "node:assert/strict";
import { fakeExchange } from "./_exchange.ts";
import { chooseRequestId, createRequestId } from "../../lib/policy/request_id.ts";
import type { PolicyExchange } from "../../lib/policy/types.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import { startLb } from "../_lb.ts";
import { inProcess } from "../routes/_routes.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("request-id unit: a well-formed ID is kept only when allowed; anything else gets a new one", () => {
  const make = () => "new";
  assert.equal(chooseRequestId("abc-123", true, make), "abc-123");
  assert.equal(chooseRequestId("abc-123", false, make), "new");
  assert.equal(chooseRequestId(undefined, true, make), "new");
  for (const bad of ["", "has space", "tab\there", "x".repeat(201), "caf\u00e9", "line\nbreak"]) {
    assert.equal(chooseRequestId(bad, true, make), "new", JSON.stringify(bad));
  }
  assert.equal(chooseRequestId("x".repeat(200), true, make), "x".repeat(200));
});

function exchange(headers: HeaderPairs, trustedPeer: boolean): PolicyExchange {
  return fakeExchange({
    headers,
    upstreamHeaders: headers.map(([n, v]) => [n, v]),
    trustedPeer,
    clientIp: "10.0.0.1",
  });
}

Deno.test("request-id unit: one field upstream, the ID echoed in place of the backend's, a field name of choice", () => {
  let n = 0;
  const policy = createRequestId(
    { header: "x-request-id", trustIncoming: true, echo: true },
    undefined,
    undefined,
    () => `id-${++n}`,
  );
  const incoming: HeaderPairs = [["x-request-id", "from-proxy"], ["x-request-id", "second"]];
  const trusted = exchange(incoming, true);
  policy.request!(trusted);
  assert.equal(trusted.requestId, "from-proxy");
  assert.deepEqual(trusted.upstreamHeaders.filter(([k]) => k === "x-request-id"), [[
    "x-request-id",
    "from-proxy",
  ]]);
  const reply = policy.response!({
    status: 200,
    headers: [["x-request-id", "backend's"], ["a", "b"]],
    body: null,
  }, trusted);
  assert.deepEqual(reply.headers, [["a", "b"], ["x-request-id", "from-proxy"]]);

  const untrusted = exchange([["x-request-id", "forged"]], false);
  policy.request!(untrusted);
  assert.equal(untrusted.requestId, "id-1");
  assert.deepEqual(untrusted.upstreamHeaders, [["x-request-id", "id-1"]]);

  const own = createRequestId(
    { header: "x-correlation-id", trustIncoming: false, echo: false },
    undefined,
    undefined,
    () => "mine",
  );
  assert.equal(own.response, undefined, "no echo: no response phase");
  const x = exchange([["x-correlation-id", "kept?"]], true);
  own.request!(x);
  assert.equal(x.requestId, "mine", "trust-incoming false: always new");
  assert.deepEqual(x.upstreamHeaders, [["x-correlation-id", "mine"]]);
});

/** A backend that answers with the request ID it received. */
function idBackend() {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      Response.json({ id: req.headers.get("x-request-id") }, {
        headers: { "x-request-id": "the-backend-s-own" },
      }),
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function configFile(config: unknown) {
  const dir = await Deno.makeTempDir({ prefix: "lb-request-id-" });
  const path = `${dir}/lb.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const body = await res.json() as { id: string | null };
  return { echoed: res.headers.get("x-request-id"), upstream: body.id };
}

Deno.test("request-id: through a real lb, a client's ID is replaced unless it comes from --trust-proxy; the ID goes upstream, back, and into the access log", async () => {
  await using be = idBackend();
  await using file = await configFile({ policies: { "request-id": true } });
  const flags = ["--config", file.path, "--access-log-format", "json"];
  {
    await using lb = await startLb([be.origin], flags);
    const forged = await get(`${lb.url}/untrusted`, { "x-request-id": "client-chosen" });
    assert.match(forged.upstream!, UUID);
    assert.equal(forged.echoed, forged.upstream, "the client gets the ID the backend got");
    const fresh = await get(`${lb.url}/none`);
    assert.match(fresh.upstream!, UUID);
    assert.notEqual(fresh.upstream, forged.upstream);
    const line = await lb.proc.waitForLine(/"path":"\/untrusted"/);
    assert.equal(JSON.parse(line.input!).request_id, forged.upstream);
  }
  {
    await using lb = await startLb([be.origin], [...flags, "--trust-proxy", "127.0.0.1/32"]);
    const kept = await get(`${lb.url}/trusted`, { "x-request-id": "edge-1234" });
    assert.deepEqual(kept, { echoed: "edge-1234", upstream: "edge-1234" });
    // Even a trusted peer's ID must be well formed.
    const bad = await get(`${lb.url}/bad`, { "x-request-id": "has space" });
    assert.match(bad.upstream!, UUID);
    const line = await lb.proc.waitForLine(/"path":"\/trusted"/);
    assert.equal(JSON.parse(line.input!).request_id, "edge-1234");
  }
});

Deno.test("request-id: the onLog record carries it, and a route can turn it off", async () => {
  await using be = idBackend();
  await using lb = inProcess({
    backends: [be.origin],
    routes: [
      {
        name: "plain",
        match: { "path-prefix": "/plain" },
        pool: "default",
        policies: { "request-id": false },
      },
      { name: "ided", match: {}, pool: "default" },
    ],
    policies: { "request-id": { header: "x-request-id", echo: true } },
  });
  const res = await lb.send("http://site.test/x");
  const id = res.headers.get("x-request-id")!;
  assert.match(id, UUID);
  const plain = await lb.send("http://site.test/plain");
  assert.equal(
    plain.headers.get("x-request-id"),
    "the-backend-s-own",
    "the backend's own field, untouched",
  );
  assert.deepEqual(lb.records.map((r) => [r.path, r.requestId]), [["/x", id], [
    "/plain",
    undefined,
  ]]);
});
