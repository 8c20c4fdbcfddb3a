/**
 * Pools and routes from a config file, through the real `lb` program: the
 * same two pools and routes written as YAML and as JSON route alike; a
 * rewritten file moves a route to the other pool while four clients keep
 * sending, and none of their requests fails; SIGHUP re-reads the file;
 * `--backends` alone is still one pool `default` behind one route
 * `default`; and `lb --check` prints the summary, or exits 2 naming the
 * route whose pool does not exist.
 *
 * @module
 */

import assert from "node:assert/strict";
import { stringify as toYaml } from "yaml";
import { type LbProcess, startLb, waitFor } from "../_lb.ts";
import { runDeno } from "../_process.ts";
import { backend, type Echo, metric, series, sleep, type StatusReport } from "./_routes.ts";

/** Two pools, and routes: `/api` (prefix stripped) to `apiPool`, everything else to `web`. */
function twoPools(api: string, web: string, apiPool = "api") {
  return {
    "health-interval": "200ms",
    pools: {
      api: { backends: [api], strategy: "round-robin" },
      web: { backends: [{ url: web, weight: 2, metadata: { zone: "z1" } }] },
    },
    routes: [
      { name: "api", match: { "path-prefix": "/api" }, pool: apiPool, "strip-prefix": "/api" },
      { name: "web", match: {}, pool: "web" },
    ],
  };
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a file and renames it into place, as editors and Kubernetes ConfigMaps do. */
async function writeConfig(path: string, config: unknown): Promise<void> {
  const text = path.endsWith(".json") ? JSON.stringify(config, null, 2) : toYaml(config);
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

async function get(
  lb: LbProcess,
  path: string,
): Promise<{ status: number; echo?: Echo; text: string }> {
  const res = await fetch(`${lb.url}${path}`);
  const text = await res.text();
  return { status: res.status, echo: res.status === 200 ? JSON.parse(text) : undefined, text };
}

async function lbStatus(lb: LbProcess): Promise<StatusReport> {
  return await (await fetch(`${lb.adminUrl}/status`)).json();
}

async function lbMetrics(lb: LbProcess): Promise<string> {
  return await (await fetch(`${lb.adminUrl}/metrics`)).text();
}

/** Checks an lb started from {@link twoPools}: routing, rewriting, `/status` and metrics. */
async function assertTwoPools(lb: LbProcess, api: string, web: string): Promise<void> {
  const a = await get(lb, "/api/users/1?full=1");
  assert.equal(a.status, 200, a.text);
  assert.deepEqual([a.echo?.name, a.echo?.path], ["api", "/users/1?full=1"]);
  const w = await get(lb, "/apix");
  assert.equal(w.status, 200, w.text);
  assert.deepEqual([w.echo?.name, w.echo?.path], ["web", "/apix"]);

  const report = await lbStatus(lb);
  assert.deepEqual(report.pools.map((p) => [p.name, p.strategy]), [
    ["api", "round-robin"],
    ["web", "round-robin"],
  ]);
  assert.deepEqual(report.routes.map((r) => r.name), ["api", "web"]);
  assert.deepEqual(
    report.backends.map((b) => [b.pool, b.url]),
    [["api", api], ["web", web]],
  );
  const webBackend = report.backends[1] as unknown as { weight: number; metadata: unknown };
  assert.equal(webBackend.weight, 2);
  assert.deepEqual(webBackend.metadata, { zone: "z1" });

  const text = await lbMetrics(lb);
  const all = JSON.stringify(series(text, "lb_requests_total"));
  assert.equal(
    metric(text, "lb_requests_total", { route: "api", pool: "api", backend: api }),
    1,
    all,
  );
  assert.equal(
    metric(text, "lb_requests_total", { route: "web", pool: "web", backend: web }),
    1,
    all,
  );
}

Deno.test("a YAML file and a JSON file with two pools and routes start lb and route alike", async () => {
  await using api = backend("api");
  await using web = backend("web");
  await withDir(async (dir) => {
    for (const name of ["lb.yaml", "lb.json"]) {
      const path = `${dir}/${name}`;
      await writeConfig(path, twoPools(api.origin, web.origin));
      if (name === "lb.yaml") {
        const text = await Deno.readTextFile(path);
        assert.match(text, /^pools:$/m, "the file is YAML, not JSON");
      }
      await using lb = await startLb([], ["--config", path]);
      await assertTwoPools(lb, api.origin, web.origin);
    }
  });
});

Deno.test("a reload that moves /api to the other pool applies at once, and no request across it fails", async () => {
  await using a = backend("api");
  await using b = backend("web");
  await withDir(async (dir) => {
    const path = `${dir}/lb.json`;
    await writeConfig(path, twoPools(a.origin, b.origin));
    await using lb = await startLb([], ["--config", path]);
    assert.equal((await get(lb, "/api/x")).echo?.name, "api");

    interface Result {
      readonly started: number;
      readonly status: number;
      readonly name?: string;
      readonly error?: string;
    }
    const results: Result[] = [];
    // 4 workers × 75 requests, paced to span about 2 s.
    const worker = async () => {
      for (let i = 0; i < 75; i++) {
        const started = performance.now();
        try {
          const res = await get(lb, `/api/x?i=${i}`);
          results.push({ started, status: res.status, name: res.echo?.name, error: res.text });
        } catch (err) {
          results.push({ started, status: 0, error: String(err) });
        }
        await sleep(25);
      }
    };
    const workers = Promise.all([worker(), worker(), worker(), worker()]);
    await sleep(500);
    await writeConfig(path, twoPools(a.origin, b.origin, "web"));
    await lb.proc.waitForLine(/configuration reloaded/, 3000);
    const reloadedAt = performance.now();
    await workers;

    assert.equal(results.length, 300);
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], `${failed.length} of 300 requests failed`);
    const after = results.filter((r) => r.started > reloadedAt);
    assert.ok(after.length >= 40, `only ${after.length} requests after the reload`);
    assert.deepEqual(after.filter((r) => r.name !== "web"), [], "the old route after the reload");
    assert.ok(results.some((r) => r.name === "api"), "no request before the reload");

    const report = await lbStatus(lb);
    assert.deepEqual(report.routes.find((r) => r.name === "api")?.target, {
      kind: "pool",
      pool: "web",
    });
    assert.deepEqual((await get(lb, "/api/y")).echo?.path, "/y");
  });
});

Deno.test("SIGHUP re-reads the config file and applies its routes; an invalid one changes nothing", async () => {
  await using a = backend("api");
  await using b = backend("web");
  await withDir(async (dir) => {
    const path = `${dir}/lb.yaml`;
    await writeConfig(path, twoPools(a.origin, b.origin));
    await using lb = await startLb([], ["--config", path]);
    assert.equal((await get(lb, "/api/x")).echo?.name, "api");
    await writeConfig(path, twoPools(a.origin, b.origin, "web"));
    lb.proc.signal("SIGHUP");
    await lb.proc.waitForLine(/configuration reloaded.*SIGHUP/, 3000);
    await waitFor(async () => (await get(lb, "/api/x")).echo?.name === "web", 2000, "/api on web");

    // An invalid file (a route to a pool that does not exist) is refused whole.
    const bad = twoPools(a.origin, b.origin, "nope");
    await writeConfig(path, { ...bad, routes: [{ ...bad.routes[0], pool: "api" }, bad.routes[0]] });
    lb.proc.signal("SIGHUP");
    await lb.proc.waitForLine(/configuration reload.*rejected.*routes\[1\]/, 3000);
    assert.equal((await get(lb, "/api/x")).echo?.name, "web");
    const report = await lbStatus(lb);
    assert.deepEqual(report.routes.map((r) => r.name), ["api", "web"]);
  });
});

Deno.test("--backends alone is still one pool `default` behind one route `default`", async () => {
  await using a = backend("a");
  await using b = backend("b");
  await using lb = await startLb([a.origin, b.origin]);
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await get(lb, `/any/${i}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.echo?.path, `/any/${i}`);
    names.push(res.echo!.name);
  }
  assert.ok(names.includes("a") && names.includes("b"), names.join());

  const report = await lbStatus(lb);
  assert.deepEqual(report.pools.map((p) => p.name), ["default"]);
  assert.deepEqual(report.pools[0].backends.map((x) => x.url), [a.origin, b.origin]);
  assert.deepEqual(report.routes.map((r) => r.name), ["default"]);
  assert.deepEqual(report.backends.map((x) => [x.pool, x.url]), [
    ["default", a.origin],
    ["default", b.origin],
  ]);

  const text = await lbMetrics(lb);
  const all = JSON.stringify(series(text, "lb_requests_total"));
  assert.equal(metric(text, "lb_requests_total", { route: "default", pool: "default" }), 6, all);
  assert.equal(metric(text, "lb_requests_total", {}), 6, all);
  for (const origin of [a.origin, b.origin]) {
    assert.ok(metric(text, "lb_requests_total", { pool: "default", backend: origin }) > 0, all);
  }
});

Deno.test("lb --check --config prints the summary and exits 0; a route to an unknown pool exits 2 naming it", async () => {
  await withDir(async (dir) => {
    const good = `${dir}/good.yaml`;
    await writeConfig(good, twoPools("http://127.0.0.1:18081", "http://127.0.0.1:18082"));
    const ok = await runDeno("main.ts", ["--check", "--config", good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /configuration is valid/);
    assert.match(ok.stdout, /2 pools/);
    assert.match(ok.stdout, /\bapi\b.*\bweb\b/);
    assert.match(ok.stdout, /2 routes \(api, web\)/);

    const bad = `${dir}/bad.yaml`;
    const config = twoPools("http://127.0.0.1:18081", "http://127.0.0.1:18082");
    await writeConfig(bad, {
      ...config,
      routes: [config.routes[0], { name: "lost", match: { "path-prefix": "/x" }, pool: "nope" }],
    });
    const res = await runDeno("main.ts", ["--check", "--config", bad]);
    assert.equal(res.code, 2, `${res.stdout}${res.stderr}`);
    assert.match(res.stderr, /routes\[1\]/);
    assert.match(res.stderr, /"nope"/);
    assert.doesNotMatch(res.stdout, /configuration is valid/);
  });
});
