/**
 * `lb replay` on a 100,000-line log, end to end as a subprocess (start-up
 * included), printing how long it took. No timed assertion: the figure is
 * for docs/replay.md; the test checks only that every line was replayed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runDeno } from "../_process.ts";
import { logLine } from "./_replay.ts";

const LINES = 100_000;

const CONFIG = `pools:
  api: { backends: ["http://10.0.0.1:80", "http://10.0.0.2:80=2", "http://10.0.0.3:80"] }
  canary: { backends: ["http://10.0.1.1:80"], strategy: p2c-ewma }
  web: { backends: ["http://10.0.2.1:80", "http://10.0.2.2:80"], strategy: consistent-hash, hash-key: path }
routes:
  - { name: api, match: { path-prefix: /api, host: api.test }, split: { api: 9, canary: 1 } }
  - name: admin
    match: { path-prefix: /admin }
    pool: web
    policies: { ip: { allow: 10.0.0.0/8 } }
  - name: search
    match: { path-prefix: /search }
    pool: web
    policies: { rate-limit: { limit: 50, period: 1s, burst: 100 } }
  - { name: site, match: { host: [www.test, "*.site.test"] }, pool: web }
`;

/** 100,000 lines of mixed traffic over ten minutes from 500 clients. */
function log(): string {
  const t0 = Date.parse("2026-12-02T10:00:00.000Z");
  const kinds = [
    ["/api/items/", "api.test", "api", "api"],
    ["/search?q=", "api.test", "search", "web"],
    ["/admin/", "api.test", "admin", "web"],
    ["/", "www.test", "site", "web"],
    ["/page/", "a.site.test", "site", "web"],
    ["/legacy/", "old.test", "legacy", "web"],
  ];
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const [path, host, route, pool] = kinds[i % kinds.length];
    lines.push(logLine({
      time: new Date(t0 + i * 6).toISOString(),
      client: `192.0.2.${i % 250}`,
      path: `${path}${i % 997}`,
      host,
      route,
      pool,
      backend: `http://10.0.2.${1 + (i % 2)}:80`,
    }));
  }
  return lines.join("\n") + "\n";
}

Deno.test("lb replay of a 100,000-line log (prints the time)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-replay-speed-" });
  try {
    const config = join(dir, "b.yaml");
    const file = join(dir, "access.jsonl");
    await Deno.writeTextFile(config, CONFIG);
    await Deno.writeTextFile(file, log());
    const started = performance.now();
    const out = await runDeno("main.ts", ["replay", "--config", config, "--format", "json", file], {
      timeoutMs: 60_000,
    });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.equal(report.summary.simulated, LINES);
    console.log(`lb replay: ${LINES} lines in ${seconds.toFixed(2)} s (start-up included)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
