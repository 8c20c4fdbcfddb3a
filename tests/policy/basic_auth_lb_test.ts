/**
 * Basic auth through a real lb process in front of a real backend: right,
 * wrong and missing credentials, `Authorization` stripped (or not), an
 * htpasswd file picked up again on SIGHUP, a weak hash stopping the lb
 * with exit 2 and the line named, and the bcrypt thread under `--workers`.
 * The access log's user is checked in-process (`onLog`).
 */

import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { startLb } from "../_lb.ts";
import { runDeno } from "../_process.ts";
import { inProcess } from "../routes/_routes.ts";
import { configDir, metric, recorder } from "./_auth.ts";

// Cost 4 keeps the suite quick; the lb accepts 4-17.
const ALICE = bcrypt.hashSync("wonderland", 4);
const BOB = bcrypt.hashSync("builder", 4).replace("$2b$", "$2y$"); // as htpasswd -B writes
const CAROL = bcrypt.hashSync("singer", 4);

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

Deno.test("basic-auth: right credentials pass (Authorization stripped, or kept with strip: false); wrong or missing get 401 and the challenge; SIGHUP re-reads the htpasswd file", async () => {
  await using backend = recorder();
  await using cfg = await configDir({
    policies: { "basic-auth": { realm: "Staff only", htpasswd: "staff.htpasswd" } },
    routes: [
      {
        name: "keep",
        match: { "path-prefix": "/keep" },
        pool: "default",
        policies: { "basic-auth": { users: { bob: BOB }, strip: false } },
      },
      { name: "site", match: {}, pool: "default" },
    ],
  }, { "staff.htpasswd": `# staff\nalice:${ALICE}\nbob:${BOB}\n` });
  await using lb = await startLb([backend.origin], ["--config", cfg.path]);
  const get = async (path: string, authorization?: string) => {
    const res = await fetch(`${lb.url}${path}`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: res.status,
      challenge: res.headers.get("www-authenticate"),
      body: await res.text(),
    };
  };
  const challenge = 'Basic realm="Staff only", charset="UTF-8"';
  assert.deepEqual(await get("/a"), { status: 401, challenge, body: "unauthorized\n" });
  assert.equal((await get("/a", basic("alice", "looking-glass"))).status, 401);
  assert.equal((await get("/a", basic("nobody", "wonderland"))).status, 401);
  assert.equal((await get("/a", "Basic not-base64!")).status, 401);
  assert.equal(backend.seen.length, 0);
  // Twice: the second is answered from the cache.
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await get(`/a/${i}`, basic("alice", "wonderland")), {
      status: 200,
      challenge: null,
      body: "backend\n",
    });
  }
  assert.equal((await get("/b", basic("bob", "builder"))).status, 200); // a $2y$ hash
  assert.ok(backend.seen.every((s) => s.headers.authorization === undefined));
  // The route with its own users and strip: false.
  assert.equal((await get("/keep", basic("alice", "wonderland"))).status, 401);
  assert.equal((await get("/keep", basic("bob", "builder"))).status, 200);
  assert.equal(backend.seen.at(-1)!.headers.authorization, basic("bob", "builder"));
  const denied = (route: string) =>
    metric(lb.adminUrl, `lb_policy_denied_total{route="${route}",policy="basic-auth"}`);
  assert.equal(await denied("site"), 4);
  assert.equal(await denied("keep"), 1);

  // A changed file is read again on SIGHUP: alice leaves, carol arrives.
  await Deno.writeTextFile(`${cfg.dir}/staff.htpasswd`, `bob:${BOB}\ncarol:${CAROL}\n`);
  lb.proc.signal("SIGHUP");
  await lb.proc.waitForLine(/configuration reloaded \(SIGHUP\)/);
  assert.equal((await get("/c", basic("alice", "wonderland"))).status, 401); // cached before, gone now
  assert.equal((await get("/c", basic("carol", "singer"))).status, 200);
  // A weak hash in the file rejects the reload, naming the line; the running config stays.
  await Deno.writeTextFile(
    `${cfg.dir}/staff.htpasswd`,
    `carol:${CAROL}\ndave:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n`,
  );
  lb.proc.signal("SIGHUP");
  await lb.proc.waitForLine(
    /reload \(SIGHUP\) rejected.*staff\.htpasswd line 2: user "dave": an MD5 \(apr1\) hash/,
  );
  assert.equal((await get("/d", basic("carol", "singer"))).status, 200);
  assert.equal((await get("/d", basic("bob", "builder"))).status, 200);
});

Deno.test("basic-auth: a weak or malformed htpasswd line stops the lb with exit 2 and the line named", async () => {
  await using cfg = await configDir({
    policies: { "basic-auth": { htpasswd: "users" } },
  }, { users: `alice:${ALICE}\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\njunk\n` });
  const out = await runDeno("main.ts", ["--backends", "http://127.0.0.1:1", "--config", cfg.path]);
  assert.equal(out.code, 2);
  const at = `lb: --config: ${cfg.path}: policies.basic-auth.htpasswd: ${cfg.dir}/users`;
  assert.deepEqual(out.stderr.trim().split("\n"), [
    `${at} line 2: user "bob": a SHA-1 hash; only bcrypt ($2y$, $2b$, $2a$: htpasswd -B) is accepted`,
    `${at} line 3: not a user:hash line`,
  ]);
});

Deno.test("basic-auth: with --workers 2 each worker thread checks passwords on a bcrypt thread of its own", async () => {
  await using backend = recorder();
  await using cfg = await configDir({ policies: { "basic-auth": { users: { alice: ALICE } } } });
  await using lb = await startLb([backend.origin], ["--config", cfg.path, "--workers", "2"]);
  const statuses: number[] = [];
  // Separate connections, so both workers (reusePort) get some.
  await Promise.all(Array.from({ length: 8 }, async (_, i) => {
    const res = await fetch(`${lb.url}/w/${i}`, {
      headers: {
        authorization: basic("alice", i % 2 === 0 ? "wonderland" : "wrong"),
        connection: "close",
      },
    });
    await res.body?.cancel();
    statuses[i] = res.status;
  }));
  assert.deepEqual(statuses, [200, 401, 200, 401, 200, 401, 200, 401]);
  assert.equal(backend.seen.length, 4);
});

Deno.test("basic-auth: the user who passed is in the access record", async () => {
  await using backend = recorder();
  await using lb = inProcess({
    backends: [backend.origin],
    policies: { "basic-auth": { users: { alice: ALICE } } },
  });
  const ok = await lb.send("http://site.test/x", {
    headers: { authorization: basic("alice", "wonderland") },
  });
  const no = await lb.send("http://site.test/y", {
    headers: { authorization: basic("alice", "nope") },
  });
  assert.equal(ok.status, 200);
  assert.equal(no.status, 401);
  await new Promise((r) => setTimeout(r, 50)); // records are written once replies are delivered
  assert.deepEqual(lb.records.map((r) => [r.path, r.user]), [["/x", "alice"], ["/y", undefined]]);
});
