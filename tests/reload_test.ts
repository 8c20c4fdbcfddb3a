/**
 * Live reconfiguration through a real lb process: a config file edited under
 * a steady stream of requests changes routing at once and loses none; a
 * removed backend's in-flight slow request still completes; an invalid file
 * is rejected and the running configuration stays; `--check` validates.
 */

import assert from "node:assert/strict";
import { httpServer } from "./_http.ts";
import { startLb, status, waitFor } from "./_lb.ts";
import { runDeno } from "./_process.ts";

function named(name: string, delayMs = 0) {
  return httpServer(async (req) => {
    const wait = Number(new URL(req.url).searchParams.get("wait") ?? delayMs);
    if (wait) await new Promise((r) => setTimeout(r, wait));
    return new Response(name);
  });
}

async function writeConfig(path: string, config: unknown): Promise<void> {
  // Write and rename, as editors and Kubernetes ConfigMaps do.
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(config));
  await Deno.rename(`${path}.tmp`, path);
}

Deno.test("a config file reload under load loses no request and reroutes at once", async () => {
  await using a = named("a");
  await using b = named("b");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await writeConfig(path, { backends: [a.origin] });
    await using lb = await startLb([], ["--config", path]);
    let stop = false;
    const seen: string[] = [];
    const failures: string[] = [];
    const client = (async () => {
      while (!stop) {
        const res = await fetch(lb.url);
        const body = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${body}`);
        else seen.push(body);
      }
    })();
    await waitFor(() => seen.length > 20, 5000, "traffic on a");
    await writeConfig(path, { backends: [b.origin] });
    await waitFor(() => seen.at(-1) === "b", 5000, "traffic on b");
    const switchedAt = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await client;
    assert.deepEqual(failures, []);
    assert.ok(seen.slice(switchedAt).every((x) => x === "b"), "a got traffic after the reload");
    const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.match(metrics, /lb_config_reloads_total\{result="success"\} [1-9]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a removed backend's in-flight slow request completes", async () => {
  await using a = named("a");
  await using b = named("b");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await writeConfig(path, { backends: [a.origin, b.origin], strategy: "round-robin" });
    await using lb = await startLb([], ["--config", path]);
    // Round-robin: the first request goes to a.
    const slow = fetch(`${lb.url}/?wait=800`).then(async (r) => ({
      s: r.status,
      t: await r.text(),
    }));
    await new Promise((r) => setTimeout(r, 100));
    await writeConfig(path, { backends: [b.origin] });
    await waitFor(
      async () => (await status(lb)).backends.some((x) => x.state === "draining"),
      3000,
      "draining",
    );
    assert.equal(await (await fetch(lb.url)).text(), "b");
    assert.deepEqual(await slow, { s: 200, t: "a" });
    await waitFor(async () => (await status(lb)).backends.length === 1, 3000, "a removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an invalid config file is rejected and the running one stays", async () => {
  await using a = named("a");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  try {
    await writeConfig(path, { backends: [a.origin] });
    await using lb = await startLb([], ["--config", path]);
    await writeConfig(path, { backends: [a.origin], strategy: "fastest", bogus: 1 });
    await lb.proc.waitForLine(/reload .* rejected/, 5000);
    lb.proc.signal("SIGHUP");
    await waitFor(
      async () => {
        const m = await (await fetch(`${lb.adminUrl}/metrics`)).text();
        return /lb_config_reloads_total\{result="failure"\} 2/.test(m);
      },
      5000,
      "two failures",
    );
    assert.equal(await (await fetch(lb.url)).text(), "a");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lb --check --config validates and exits 0 or 2 with every problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeConfig(`${dir}/good.json`, {
      backends: ["http://127.0.0.1:9", {
        url: "http://127.0.0.1:10",
        weight: 3,
        metadata: { zone: "a" },
      }],
      strategy: "p2c-ewma",
      "health-interval": "2s",
      "eject-on-5xx": true,
    });
    const good = await runDeno("main.ts", ["--check", "--config", `${dir}/good.json`]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /configuration is valid/);
    await writeConfig(`${dir}/bad.json`, { backends: 5, "health-interval": "soon", extra: true });
    const bad = await runDeno("main.ts", ["--check", "--config", `${dir}/bad.json`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /backends/);
    assert.match(bad.stderr, /extra: unknown setting/);
    await writeConfig(`${dir}/semantic.json`, { "health-interval": "soon", backends: "a:1" });
    const semantic = await runDeno("main.ts", ["--check", "--config", `${dir}/semantic.json`]);
    assert.equal(semantic.code, 2);
    assert.match(semantic.stderr, /health-interval: "soon"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
