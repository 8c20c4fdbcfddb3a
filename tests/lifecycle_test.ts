/**
 * The load balancer's life with real processes: failover when a backend is
 * killed under load, recovery when it returns, readiness, graceful drain on
 * SIGTERM, and a second signal forcing the exit.
 */

import assert from "node:assert/strict";
import { type RunningProcess, startDeno } from "./_process.ts";
import { startLb, status, waitFor } from "./_lb.ts";

function startBackend(name: string, port = 0): Promise<RunningProcess> {
  return startDeno("backend.ts", ["--host", "127.0.0.1", "--port", String(port), "--name", name]);
}

async function getText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

Deno.test("failover: killing a backend under a stream of GETs fails none of them", async () => {
  const backends = await Promise.all(["a", "b", "c"].map((n) => startBackend(n)));
  try {
    await using lb = await startLb(backends.map((b) => `http://127.0.0.1:${b.port}`));
    const total = 600;
    let sent = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (sent < total) {
        const i = sent++;
        if (i === 150) backends[1].signal("SIGKILL");
        const res = await fetch(`${lb.url}/?i=${i}`);
        const body = await res.text();
        if (res.status !== 200) failures.push(`#${i}: ${res.status} ${body}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(failures, []);
    const s = await status(lb);
    assert.equal(s.backends[1].state, "down");
  } finally {
    await Promise.all(backends.map((b) => b.stop("SIGKILL")));
  }
});

Deno.test("recovery: a backend that comes back gets traffic again", async () => {
  let backend = await startBackend("phoenix");
  const port = backend.port;
  try {
    await using lb = await startLb([`http://127.0.0.1:${port}`]);
    assert.equal((await getText(`${lb.url}/`)).status, 200);
    await backend.stop("SIGKILL");
    await waitFor(async () => (await status(lb)).backends[0].state === "down", 5000, "down");
    const ready = await fetch(`${lb.adminUrl}/readyz`);
    assert.equal(ready.status, 503);
    await ready.body?.cancel();
    assert.equal((await getText(`${lb.url}/`)).status, 503);
    backend = await startBackend("phoenix", port);
    await waitFor(async () => (await status(lb)).backends[0].state === "up", 5000, "up");
    const res = await getText(`${lb.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.body, /phoenix/);
  } finally {
    await backend.stop("SIGKILL");
  }
});

Deno.test("graceful drain: SIGTERM lets an in-flight slow request finish, then exits 0", async () => {
  const backend = await startBackend("slowpoke");
  try {
    const lb = await startLb([`http://127.0.0.1:${backend.port}`], ["--shutdown-delay", "300ms"]);
    const slow = fetch(`${lb.url}/?wait=1s`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    await new Promise((r) => setTimeout(r, 200));
    lb.proc.signal("SIGTERM");
    // Readiness fails at once, while traffic is still served during the delay.
    await waitFor(
      async () => {
        const r = await fetch(`${lb.adminUrl}/readyz`);
        await r.body?.cancel();
        return r.status === 503;
      },
      1000,
      "readyz 503",
    );
    const during = await getText(`${lb.url}/`);
    assert.equal(during.status, 200);
    const done = await slow;
    assert.equal(done.status, 200);
    assert.match(done.body, /slowpoke/);
    // Wait for the exit the first signal started; stop() would send a second one.
    assert.equal((await lb.proc.child.status).code, 0);
    await lb.stop();
  } finally {
    await backend.stop();
  }
});

Deno.test("a second signal exits at once, even with requests in flight", async () => {
  const backend = await startBackend("stuck");
  try {
    const lb = await startLb([`http://127.0.0.1:${backend.port}`], ["--shutdown-timeout", "30s"]);
    const slow = fetch(`${lb.url}/?wait=20s`).then((r) => r.text()).catch(() => "aborted");
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    lb.proc.signal("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    lb.proc.signal("SIGTERM");
    const code = await lb.stop();
    assert.notEqual(code, 0);
    assert.ok(Date.now() - started < 5000);
    await slow;
  } finally {
    await backend.stop();
  }
});
