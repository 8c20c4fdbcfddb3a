/**
 * Transports loaded on first use (`lib/transport/lazy.ts`), and the module
 * graph that makes it matter: no thread loads `node:http` unless a pool
 * asks for the `node-http` transport.
 */

import assert from "node:assert/strict";
import { lazyTransport } from "../lib/transport/lazy.ts";
import { createTransport } from "../lib/transport/mod.ts";
import { NodeHttpTransport } from "../lib/transport/node_http.ts";
import type { Transport, UpstreamRequest, UpstreamTarget } from "../lib/core/transport.ts";

const target = { url: "http://127.0.0.1:1" } as unknown as UpstreamTarget;
const request = {} as UpstreamRequest;

function counting() {
  const seen = { loads: 0, requests: 0, closes: 0 };
  const inner: Transport = {
    request() {
      seen.requests++;
      return Promise.resolve({ status: 204, headers: [], body: null });
    },
    close() {
      seen.closes++;
      return Promise.resolve();
    },
  };
  const load = () => {
    seen.loads++;
    return Promise.resolve(inner);
  };
  return { seen, load };
}

Deno.test("lazy transport: loads on the first request, once, however many arrive together", async () => {
  const { seen, load } = counting();
  const t = lazyTransport(false, load);
  assert.equal(seen.loads, 0);
  const replies = await Promise.all([t.request(target, request), t.request(target, request)]);
  assert.deepEqual(replies.map((r) => r.status), [204, 204]);
  await t.request(target, request);
  assert.deepEqual(seen, { loads: 1, requests: 3, closes: 0 });
  await t.close();
  assert.equal(seen.closes, 1);
});

Deno.test("lazy transport: closing one never used loads nothing", async () => {
  const { seen, load } = counting();
  const t = lazyTransport(true, load);
  assert.equal(t.tunnels, true);
  await t.close();
  assert.deepEqual(seen, { loads: 0, requests: 0, closes: 0 });
});

Deno.test("lazy transport: a failed load fails the requests; closing it has nothing to close", async () => {
  const t = lazyTransport(false, () => Promise.reject(new Error("no module")));
  await assert.rejects(t.request(target, request), /no module/);
  await t.close();
});

Deno.test("lazy transport: node-http says what the loaded transport says about tunnels", async () => {
  const options = {
    connectTimeoutMs: 1000,
    responseTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    maxConnectionsPerBackend: 0,
  };
  const lazy = createTransport("node-http", options);
  const loaded: Transport = new NodeHttpTransport(options);
  assert.equal(lazy.tunnels ?? false, loaded.tunnels ?? false);
  await lazy.close();
  await loaded.close();
});

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** Every module `entry` imports statically (dynamic imports not followed). */
async function staticGraph(entry: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const modules: InfoModule[] = JSON.parse(new TextDecoder().decode(out.stdout)).modules;
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  const root = modules.find((m) => m.specifier.endsWith(entry))!;
  const seen = new Set<string>([root.specifier]);
  const todo = [root];
  for (let m = todo.pop(); m; m = todo.pop()) {
    for (const dep of m.dependencies ?? []) {
      const next = dep.code?.specifier;
      if (!next || dep.isDynamic || seen.has(next)) continue;
      seen.add(next);
      const mod = bySpecifier.get(next);
      if (mod) todo.push(mod);
    }
  }
  return seen;
}

for (const entry of ["main.ts", "lib/server/worker_thread.ts"]) {
  Deno.test(`${entry} does not load node:http until a pool asks for it`, async () => {
    const graph = await staticGraph(entry);
    assert.ok([...graph].some((s) => s.endsWith("/lib/transport/h1/client.ts")), "graph read");
    for (const heavy of ["node:http", "node:https", "node:net"]) {
      assert.ok(!graph.has(heavy), `${entry} statically imports ${heavy}`);
    }
  });
}
