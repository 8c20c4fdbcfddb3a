/**
 * `X-LB-Explain`, piece by piece and without sockets: the route
 * explanation, each strategy's trace (seeded), the rendering and its size
 * bound, the token check, the field never going upstream, and the access
 * log's JSON line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { asciiJson, Explain, renderExplain } from "../lib/core/explain.ts";
import { explainedReply, explainRequested, tokenMatches } from "../lib/proxy/explain.ts";
import { upstreamRequestHeaders } from "../lib/proxy/headers.ts";
import { explainNoRoute, explainRoute, judgeRoute } from "../lib/routing/explain.ts";
import { compileRoutes, type RouteRequest } from "../lib/routing/router.ts";
import type { RouteConfig } from "../lib/config/types.ts";
import { jsonFormatter, templateFormatter } from "../lib/core/access_format.ts";
import type { AccessRecord } from "../lib/core/access_record.ts";
import { backends, ctx, load, seeded } from "./_strategy.ts";

const TOKEN = "a-long-enough-admin-token";

function req(over: Partial<RouteRequest> = {}): RouteRequest {
  return { method: "GET", host: "api.example", path: "/api/v1?x=1", headers: [], ...over };
}

function route(name: string, match: RouteConfig["match"], pool = name): RouteConfig {
  return { name, match, target: { kind: "pool", pool } } as RouteConfig;
}

Deno.test("route: the chosen route's passing tests, and each earlier route's first failure", () => {
  const router = compileRoutes([
    route("admin", { methods: ["POST"] }),
    route("web", { hosts: ["web.example"] }),
    route("v2", { hosts: ["*.example"], pathPrefixes: ["/v2"] }),
    route("hdr", { headers: { "X-Env": ["prod"] } }),
    route("q", { query: { beta: ["1"] } }),
    route("api", {
      methods: ["GET"],
      hosts: ["other.example", "api.example"],
      pathPrefixes: ["/api"],
      headers: { "x-env": ["test"] },
      query: { x: ["1"] },
    }),
    route("rest", {}),
  ]);
  const r = req({ headers: [["x-env", "test"]] });
  const chosen = router.match(r)!;
  assert.equal(chosen.name, "api");
  assert.deepEqual(explainRoute(router.routes, chosen, r), {
    name: "api",
    why: [
      "method GET matched",
      "host api.example matched",
      "prefix /api matched",
      "header x-env matched",
      "query x matched",
    ],
    skipped: [
      { route: "admin", failed: "method" },
      { route: "web", failed: "host" },
      { route: "v2", failed: "prefix" },
      { route: "hdr", failed: "header x-env" },
      { route: "q", failed: "query beta" },
    ],
  });
  assert.deepEqual(judgeRoute({}, r), { matched: true, why: ["matches every request"] });
  assert.deepEqual(judgeRoute({ paths: ["/api/v1"] }, r), {
    matched: true,
    why: ["path /api/v1 matched"],
  });
  assert.deepEqual(judgeRoute({ hosts: ["api.example"] }, req({ host: null })), {
    matched: false,
    failed: "host",
  });
  // The explanation agrees with the router on every route of the table.
  for (const other of [req(), req({ method: "POST" }), req({ host: "web.example" })]) {
    const m = router.match(other)!;
    const verdicts = router.routes.map((rt) => judgeRoute(rt.config.match, other).matched);
    assert.equal(verdicts.indexOf(true), m.index, `${other.method} ${other.host}`);
  }
  assert.deepEqual(
    explainNoRoute(compileRoutes([route("web", { hosts: ["web.example"] })]).routes, r),
    [
      { route: "web", failed: "host" },
    ],
  );
});

Deno.test("p2c-ewma: both draws with EWMA, in-flight, weight and score, and which won", () => {
  const [a, b, c] = backends(3);
  a.answered(10, 0);
  b.answered(40, 0);
  load(b, 1);
  const strategy = seeded("p2c-ewma", 7);
  const explain = new Explain();
  explain.beginPick();
  const picked = strategy.pick([a, b, c], { ...ctx(), trace: explain });
  const record = explain.toRecord() as {
    picks: { drawn: number[] }[];
    candidates: {
      backend: string;
      won: boolean;
      score: number;
      inFlight: number;
      ewmaMs: number;
    }[];
  };
  assert.equal(record.candidates.length, 2);
  assert.equal(record.picks[0].drawn.length, 2);
  const winner = record.candidates.filter((x) => x.won);
  assert.equal(winner.length, 1);
  assert.equal(winner[0].backend, picked!.id);
  const [x, y] = record.candidates;
  assert.ok(winner[0].score === Math.min(x.score, y.score));
  for (const cand of record.candidates) {
    const be = [a, b, c].find((z) => z.id === cand.backend)!;
    assert.equal(cand.inFlight, be.inFlight);
  }
  // Without a trace the same seed makes the same pick: the trace only watches.
  assert.equal(seeded("p2c-ewma", 7).pick([a, b, c], ctx()), picked);
});

Deno.test("least-connections, round-robin, random: what each weighed", () => {
  const [a, b] = backends(2, [1, 3]);
  load(a, 2);
  const lc = new Explain();
  seeded("least-connections").pick([a, b], { ...ctx(), trace: lc });
  assert.deepEqual(lc.candidates, [
    { pick: 0, backend: a.id, inFlight: 2, weight: 1, score: 3 },
    { pick: 0, backend: b.id, inFlight: 0, weight: 3, score: 0.333 },
  ]);
  const rr = new Explain();
  seeded("round-robin").pick([a, b], { ...ctx(), trace: rr });
  assert.deepEqual(rr.candidates.map((x) => x.credit), [1, 3]);
  assert.deepEqual(rr.picks[0], { pick: 0, rotation: "smooth weighted", credit: 3, total: 4 });
  const rnd = new Explain();
  seeded("random").pick([a, b], { ...ctx(), trace: rnd });
  assert.equal(rnd.picks[0].total, 4);
  assert.equal(typeof rnd.picks[0].draw, "number");
  assert.equal(rnd.candidates.length, 2);
});

Deno.test("consistent-hash: the key's source and hash, never the key itself; sticky-cookie: pinned or not", () => {
  const pool = backends(3);
  const strategy = seeded("consistent-hash", 1, "s", {
    hashKey: { kind: "cookie", name: "session" },
  });
  const explain = new Explain();
  strategy.pick(pool, { ...ctx({ cookie: "session=secret-value" }), trace: explain });
  const note = explain.picks[0];
  assert.equal(note.key, "cookie session");
  assert.equal(typeof note.hash, "number");
  assert.equal(typeof note.slot, "number");
  assert.ok(!JSON.stringify(explain.toRecord()).includes("secret-value"));
  const none = new Explain();
  strategy.pick(pool, { ...ctx(), trace: none });
  assert.equal(none.picks[0].keyPresent, false);
  const sticky = seeded("sticky-cookie");
  const first = new Explain();
  const chosen = sticky.pick(pool, { ...ctx(), trace: first })!;
  assert.equal(first.picks[0].pinned, false);
  assert.equal(first.picks[0].why, "no cookie");
  const cookie = sticky.responseHeaders!(chosen, ctx())![0][1].split(";")[0];
  const again = new Explain();
  assert.equal(sticky.pick(pool, { ...ctx({ cookie }), trace: again }), chosen);
  assert.equal(again.picks[0].pinned, true);
});

Deno.test("attempts and policies are recorded in order; a refusal names its policy", () => {
  const e = new Explain();
  e.attempt("http://a").outcome = "connect_refused";
  e.retried("connect_refused");
  e.attempt("http://b").outcome = 503;
  e.notRetried("no retries left");
  e.notRetried("a later reason does not replace the first");
  e.policy("ip", "allowed 192.0.2.1");
  e.refusedBy = { policy: "rate-limit", status: 429 };
  assert.deepEqual(e.toRecord(), {
    attempts: [
      { backend: "http://a", outcome: "connect_refused", retry: "connect_refused" },
      { backend: "http://b", outcome: 503, noRetry: "no retries left" },
    ],
    policies: ["ip: allowed 192.0.2.1"],
    refusedBy: { policy: "rate-limit", status: 429 },
  });
});

Deno.test("rendering: one ASCII line, bounded, lists cut and marked truncated", () => {
  const e = new Explain();
  e.route = { name: "caf\u00e9\n\u{1f600}", why: ["x"], skipped: [] };
  const line = renderExplain(e);
  assert.ok(/^[\x20-\x7e]*$/.test(line), line);
  assert.equal(JSON.parse(line).route.name, "caf\u00e9\n\u{1f600}");
  assert.equal(asciiJson("\u007f"), '"\\u007f"');
  const big = new Explain();
  for (let i = 0; i < 500; i++) big.candidate(`http://10.0.0.${i % 250}:8080`, { score: i });
  const bounded = renderExplain(big);
  assert.ok(bounded.length <= 4096, `${bounded.length}`);
  const parsed = JSON.parse(bounded);
  assert.equal(parsed.truncated, true);
  assert.ok(parsed.candidates.length > 0 && parsed.candidates.length < 500);
  assert.ok(renderExplain(big, 200).length <= 200);
});

Deno.test("token: constant-time check; only the right token explains; the field never goes upstream", () => {
  assert.equal(tokenMatches(TOKEN, TOKEN), true);
  assert.equal(tokenMatches(TOKEN.slice(0, -1) + "X", TOKEN), false);
  assert.equal(tokenMatches("short", TOKEN), false);
  assert.equal(tokenMatches("", TOKEN), false);
  assert.ok(explainRequested([["x-lb-explain", TOKEN]], TOKEN) instanceof Explain);
  assert.ok(explainRequested([["x-lb-explain", ` ${TOKEN} `]], TOKEN) instanceof Explain);
  assert.equal(explainRequested([["x-lb-explain", "wrong"]], TOKEN), undefined);
  assert.equal(explainRequested([["x-lb-explain", TOKEN]], undefined), undefined);
  assert.equal(explainRequested([["host", "a"]], TOKEN), undefined);
  const up = upstreamRequestHeaders(
    [["host", "a"], ["x-lb-explain", TOKEN], ["x-other", "1"]],
    { ip: "192.0.2.1", proto: "http", host: "a" },
    [],
  );
  assert.ok(!up.some(([n]) => n === "x-lb-explain"));
  assert.ok(up.some(([n]) => n === "x-other"));
  // The lb's field replaces a backend's.
  const reply = explainedReply(
    { status: 502, headers: [["x-lb-explain", "backend"], ["a", "b"]], body: null },
    new Explain(),
  );
  assert.deepEqual(reply.headers, [["a", "b"], ["x-lb-explain", '{"status":502}']]);
});

Deno.test("access log: JSON lines nest an explained record's explain; others are unchanged", () => {
  const base: AccessRecord = {
    method: "GET",
    path: "/",
    status: 200,
    route: "r",
    pool: "p",
    backend: "b",
    durationMs: 1,
    bytes: 0,
    client: "192.0.2.1",
    time: 0,
    protocol: "HTTP/1.1",
    host: "h",
  };
  const format = jsonFormatter(["status", "route"]);
  assert.equal(format(base), '{"status":200,"route":"r"}');
  const explained = { ...base, explain: { route: { name: "r" }, pool: "p\u00e9" } };
  const line = format(explained);
  assert.deepEqual(JSON.parse(line), {
    status: 200,
    route: "r",
    explain: { route: { name: "r" }, pool: "p\u00e9" },
  });
  assert.ok(/^[\x20-\x7e]*$/.test(line));
  // Named in the fields: in that place, once; null when the record has none.
  const named = jsonFormatter(["explain", "status"]);
  assert.equal(named(base), '{"explain":null,"status":200}');
  assert.equal(JSON.parse(named(explained)).explain.pool, "p\u00e9");
  assert.equal(
    jsonFormatter([])(explained),
    '{"explain":{"route":{"name":"r"},"pool":"p\\u00e9"}}',
  );
  // Templates ignore it unless they name it.
  assert.equal(templateFormatter([{ field: "status" }])(explained), "200");
  assert.equal(templateFormatter([{ field: "explain" }])(base), "-");
});
