/**
 * `lb replay` against real runs: a real lb with config A logs a fixed
 * traffic mix (JSON lines in a file), `lb replay --config B` predicts from
 * that log, and a real lb with config B, given the same traffic, must
 * produce exactly the predicted shares per route, per pool and per backend,
 * and the same rejections. Round-robin, splits, an ip rule, a rate limit,
 * a removed route and a widened one are all exact, so equality is exact.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { httpServer, rawRequest } from "../_http.ts";
import { type LbProcess, startLb, waitFor } from "../_lb.ts";
import { runDeno } from "../_process.ts";
import type { ReplayReport, Share } from "../../lib/replay/tally.ts";

type Counts = Record<string, number>;

/** The traffic: sequential requests, so round-robin and splits turn the same way each run. */
function traffic(): [path: string, host: string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < 8; i++) {
    out.push(
      [`/api/items/${i}`, "api.test"],
      [`/api/users?id=${i}`, "api.test"],
      ["/", "www.test"],
      ["/admin/panel", "api.test"],
      [`/search?q=${i}`, "api.test"],
      ["/legacy/page", "legacy.test"],
      ["/", "other.test"],
    );
  }
  return out;
}

async function linesOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text === "" ? [] : text.split("\n").slice(0, -1);
}

/** Runs the traffic through an lb with `config`, logging JSON lines to `log`; returns the records. */
async function run(config: string, log: string): Promise<Record<string, unknown>[]> {
  const lb: LbProcess = await startLb([], [
    "--config",
    config,
    "--access-log-format",
    "json",
    "--access-log-file",
    log,
  ]);
  try {
    const mix = traffic();
    for (const [path, host] of mix) {
      await rawRequest(lb.port, [`GET ${path} HTTP/1.1`, `Host: ${host}`]);
    }
    await waitFor(async () => (await linesOf(log)).length >= mix.length, 5000, "log lines");
  } finally {
    await lb.stop();
  }
  return (await linesOf(log)).map((l) => JSON.parse(l));
}

function tally(records: Record<string, unknown>[], key: (r: Record<string, unknown>) => string) {
  const out: Counts = {};
  for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}

/** A report's counts on one side, zeros left out. */
function side(rows: readonly Share[], which: "before" | "after", prefix = ""): Counts {
  const out: Counts = {};
  for (const r of rows) if (r[which] > 0) out[prefix + r.name] = r[which];
  return out;
}

function backends(report: ReplayReport, which: "before" | "after"): Counts {
  return Object.assign({}, ...report.pools.map((p) => side(p.backends, which, `${p.name} `)));
}

Deno.test("replay predicts a real run of config B from config A's log: shares and rejections exact", async () => {
  await using b1 = httpServer(() => new Response("one"));
  await using b2 = httpServer(() => new Response("two"));
  await using b3 = httpServer(() => new Response("three"));
  const dir = await Deno.makeTempDir({ prefix: "lb-replay-" });
  try {
    const a = join(dir, "a.yaml");
    const b = join(dir, "b.yaml");
    await Deno.writeTextFile(
      a,
      `pools:\n` +
        `  api: { backends: ["${b1.origin}", "${b2.origin}"] }\n` +
        `  web: { backends: ["${b3.origin}"] }\n` +
        `routes:\n` +
        `  - { name: api, match: { path-prefix: /api }, pool: api }\n` +
        `  - { name: admin, match: { path-prefix: /admin }, pool: web }\n` +
        `  - { name: search, match: { path-prefix: /search }, pool: web }\n` +
        `  - { name: legacy, match: { path-prefix: /legacy }, pool: web }\n` +
        `  - { name: site, match: { host: www.test }, pool: web }\n`,
    );
    await Deno.writeTextFile(
      b,
      `pools:\n` +
        `  api: { backends: ["${b1.origin}", "${b2.origin}=2", "${b3.origin}"] }\n` +
        `  web: { backends: ["${b3.origin}", "${b1.origin}"] }\n` +
        `routes:\n` +
        `  - { name: api, match: { path-prefix: /api }, split: { api: 3, web: 1 } }\n` +
        `  - name: admin\n    match: { path-prefix: /admin }\n    pool: web\n` +
        `    policies: { ip: { deny: 127.0.0.0/8 } }\n` +
        `  - name: search\n    match: { path-prefix: /search }\n    pool: web\n` +
        `    policies: { rate-limit: { limit: 1, period: 1h, burst: 3 } }\n` +
        `  - { name: site, match: { host: [www.test, other.test] }, pool: web }\n`,
    );
    const logA = join(dir, "a.jsonl");
    const logB = join(dir, "b.jsonl");
    const before = await run(a, logA);
    const n = traffic().length;
    assert.equal(before.length, n);

    const replay = await runDeno("main.ts", ["replay", "--config", b, "--format", "json", logA]);
    assert.equal(replay.code, 0, replay.stderr);
    const report: ReplayReport = JSON.parse(replay.stdout);

    // Replayed against its own config, every request goes exactly where it went.
    const self = await runDeno("main.ts", ["replay", "--config", a, "--format", "json", logA]);
    assert.equal(self.code, 0, self.stderr);
    const own: ReplayReport = JSON.parse(self.stdout);
    assert.equal(own.summary.same, n - 8);
    assert.equal(own.summary.stillRejected, 8, "other.test has no route in A");

    const after = await run(b, logB);
    assert.equal(after.length, n);

    const route = (r: Record<string, unknown>) => String(r.route);
    const pool = (r: Record<string, unknown>) => String(r.pool);
    const backend = (r: Record<string, unknown>) => `${r.pool} ${r.backend}`;
    // Before is the log as it was.
    assert.deepEqual(side(report.routes, "before"), tally(before, route));
    assert.deepEqual(side(report.pools, "before"), tally(before, pool));
    assert.deepEqual(backends(report, "before"), tally(before, backend));
    // After is what the real run of B did.
    assert.deepEqual(side(report.routes, "after"), tally(after, route));
    assert.deepEqual(side(report.pools, "after"), tally(after, pool));
    assert.deepEqual(backends(report, "after"), tally(after, backend));
    const refused = after.filter((r) => r.backend === "none");
    assert.deepEqual(
      Object.fromEntries(report.rejected.map((r) => [`${r.status} ${r.route}`, r.count])),
      tally(refused, (r) => `${r.status} ${r.route}`),
    );
    // The mix was built to exercise each: 8 no-route, 8 ip, 5 rate-limited.
    assert.deepEqual(tally(refused, (r) => String(r.status)), { 403: 8, 404: 8, 429: 5 });
    const s = report.summary;
    assert.equal(s.simulated, n);
    assert.equal(s.malformed, 0);
    assert.deepEqual(s.newlyRejected, { total: 21, byStatus: { 403: 8, 404: 8, 429: 5 } });
    assert.equal(s.noLongerRejected, 8, "other.test now has a route");
    assert.equal(
      s.same + s.moved.total + s.newlyRejected.total + s.stillRejected + s.noLongerRejected +
        s.needsCredentials,
      n,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
