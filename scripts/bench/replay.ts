/**
 * `deno task bench --replay`: how long `lb replay` takes on a 100,000-line
 * JSON access log, end to end as a user runs it (a `deno run main.ts
 * replay` subprocess, start-up included), against the goal of "in
 * seconds" (taken as at most {@link REPLAY_GOAL_S}). The log is generated:
 * ten minutes of mixed traffic from 250 clients over six kinds of request,
 * so every part of the simulation runs (splits, p2c, consistent hashing, an
 * ip rule, a rate limit, a route no longer there). `tests/replay/speed_test.ts`
 * replays the same log once and prints its time.
 *
 * @module
 */

import { join } from "node:path";

/** Lines in the generated log. */
export const REPLAY_LINES = 100_000;

/** The goal, in seconds, for {@link REPLAY_LINES} lines. */
export const REPLAY_GOAL_S = 5;

/** The new configuration the log is replayed against. */
export const REPLAY_CONFIG = `pools:
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

/** Path prefix, host, route and pool of each kind of logged request, in turn. */
const KINDS = [
  ["/api/items/", "api.test", "api", "api"],
  ["/search?q=", "api.test", "search", "web"],
  ["/admin/", "api.test", "admin", "web"],
  ["/", "www.test", "site", "web"],
  ["/page/", "a.site.test", "site", "web"],
  ["/legacy/", "old.test", "legacy", "web"],
] as const;

/** `lines` JSON access-log lines (the default `--access-log-fields`), one every 6 ms. */
export function replayLog(lines = REPLAY_LINES): string {
  const t0 = Date.parse("2026-12-02T10:00:00.000Z");
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const [path, host, route, pool] = KINDS[i % KINDS.length];
    out.push(JSON.stringify({
      time: new Date(t0 + i * 6).toISOString(),
      client: `192.0.2.${i % 250}`,
      user: null,
      method: "GET",
      path: `${path}${i % 997}`,
      protocol: "HTTP/1.1",
      status: 200,
      bytes: 5,
      duration_ms: 1.5,
      host,
      referer: null,
      user_agent: null,
      route,
      pool,
      backend: `http://10.0.2.${1 + (i % 2)}:80`,
      request_id: null,
    }));
  }
  return out.join("\n") + "\n";
}

/** One timed replay: wall seconds, and how many requests the report says it simulated. */
export async function timeReplay(
  root: string,
  config: string,
  log: string,
): Promise<{ seconds: number; simulated: number }> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "main.ts",
      "replay",
      "--config",
      config,
      "--format",
      "json",
      log,
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) {
    throw new Error(`lb replay exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  return { seconds, simulated: report.summary.simulated };
}

/** Runs the replay `rounds` times and returns the report's markdown. */
export async function benchReplay(root: string, rounds: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lb-bench-replay-" });
  try {
    const config = join(dir, "new.yaml");
    const log = join(dir, "access.jsonl");
    await Deno.writeTextFile(config, REPLAY_CONFIG);
    await Deno.writeTextFile(log, replayLog());
    const runs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const { seconds, simulated } = await timeReplay(root, config, log);
      if (simulated !== REPLAY_LINES) {
        throw new Error(`lb replay simulated ${simulated} of ${REPLAY_LINES} lines`);
      }
      runs.push(seconds);
    }
    const median = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    const met = median <= REPLAY_GOAL_S ? "met" : "not met";
    return [
      `## replay: lb replay on a ${REPLAY_LINES.toLocaleString("en")}-line JSON access log`,
      "",
      "| runs | seconds each (start-up included) | median s | lines/s |",
      "| ---: | --- | ---: | ---: |",
      `| ${rounds} | ${runs.map((s) => s.toFixed(2)).join(", ")} | ${median.toFixed(2)} | ${
        Math.round(REPLAY_LINES / median).toLocaleString("en")
      } |`,
      "",
      `- goal ≤ ${REPLAY_GOAL_S} s: ${met}`,
    ].join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
