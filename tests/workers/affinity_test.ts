/**
 * The same affinity decisions in every worker: with `--workers 2`,
 * consistent hashing on a header sends each key to one backend whichever
 * worker takes the connection, and a sticky cookie issued by either worker
 * brings its client back to the same backend through both, with a
 * `--sticky-secret` and without one (then the main thread generates the
 * secret once and gives it to every worker). Every request goes on a fresh
 * connection, so the kernel spreads them over the workers; `/status` shows
 * that both served.
 *
 * @module
 */

import assert from "node:assert/strict";
import { namedBackend, startWorkersLb } from "./_workers.ts";
import { concurrently, send, servedSince, workerRequests } from "./_more.ts";

const KEYS = 20;
const REPEATS = 10;

Deno.test("--workers 2, consistent-hash on header:x-user: each of 20 keys always reaches one backend", async () => {
  await using a = namedBackend("a");
  await using b = namedBackend("b");
  await using c = namedBackend("c");
  await using lb = await startWorkersLb([a.origin, b.origin, c.origin], {
    extra: ["--strategy", "consistent-hash", "--hash-key", "header:x-user", "--retries", "0"],
  });
  const before = await workerRequests(lb);

  // Key i's j-th request is number j * KEYS + i: each key's requests are
  // spread over the whole run, and so over many connections and both workers.
  const sent = KEYS * REPEATS;
  const replies = await concurrently(sent, (n) => {
    const key = `user-${n % KEYS}`;
    return send(lb.port, { headers: { "x-user": key } }).then((r) => ({ key, ...r }));
  });
  assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`), []);

  const seen = new Map<string, Set<string>>();
  for (const r of replies) {
    const set = seen.get(r.key) ?? new Set<string>();
    set.add(r.body);
    seen.set(r.key, set);
  }
  const split = [...seen].filter(([, s]) => s.size > 1).map(([k, s]) => `${k}: ${[...s]}`);
  assert.deepEqual(split, [], "keys answered by more than one backend");
  // Twenty keys on one backend would make the check above say little.
  const owners = new Set([...seen.values()].map((s) => [...s][0]));
  assert.ok(owners.size >= 2, `all ${KEYS} keys hashed to ${[...owners]}`);
  assert.equal(a.count() + b.count() + c.count(), sent);

  const per = await servedSince(lb, before, sent);
  assert.equal(per.reduce((x, y) => x + y, 0), sent, `per worker ${per}`);
  assert.ok(per.every((n) => n > 0), `a worker served nothing: ${per}`);
});

for (const secret of ["workers-sticky-secret-0123456789", undefined]) {
  const label = secret ? "with --sticky-secret" : "with the generated secret";
  Deno.test(`--workers 2, sticky-cookie ${label}: a cookie from either worker leads back to its backend through both`, async () => {
    await using a = namedBackend("a");
    await using b = namedBackend("b");
    await using c = namedBackend("c");
    await using lb = await startWorkersLb([a.origin, b.origin, c.origin], {
      extra: ["--strategy", "sticky-cookie", "--retries", "0"].concat(
        secret ? ["--sticky-secret", secret] : [],
      ),
    });
    const before = await workerRequests(lb);

    // Cookieless requests on fresh connections: each worker places them by
    // its own rotation and issues the cookie of the backend it chose.
    const first = await concurrently(30, () => send(lb.port));
    const issued = new Map<string, Set<string>>();
    for (const r of first) {
      assert.equal(r.status, 200, r.body);
      const cookie = r.header("set-cookie");
      assert.ok(cookie, `no Set-Cookie on a first answer from ${r.body}`);
      const pair = cookie.split(";")[0];
      assert.match(pair, /^lb_sticky=[A-Za-z0-9_-]{22}$/);
      const set = issued.get(r.body) ?? new Set<string>();
      set.add(pair);
      issued.set(r.body, set);
    }
    assert.deepEqual([...issued.keys()].sort(), ["a", "b", "c"], "30 first requests missed one");
    // One secret in every worker: one value per backend, whichever worker issued it.
    for (const [name, set] of issued) {
      assert.equal(set.size, 1, `backend ${name} got several cookie values: ${[...set]}`);
    }

    const cookies = [...issued].map(([name, set]) => ({ name, pair: [...set][0] }));
    const sent = cookies.length * REPEATS;
    const again = await concurrently(sent, (n) => {
      const { name, pair } = cookies[n % cookies.length];
      return send(lb.port, { headers: { cookie: pair } }).then((r) => ({ name, ...r }));
    });
    const astray = again.filter((r) => r.status !== 200 || r.body !== r.name)
      .map((r) => `${r.name}'s cookie: ${r.status} from ${r.body}`);
    assert.deepEqual(astray, [], "a cookie led to another backend");
    // A request carrying its backend's cookie gets no new one.
    assert.deepEqual(again.filter((r) => r.header("set-cookie")).length, 0);

    const total = first.length + sent;
    const per = await servedSince(lb, before, total);
    assert.equal(per.reduce((x, y) => x + y, 0), total, `per worker ${per}`);
    assert.ok(per.every((n) => n > 0), `a worker served nothing: ${per}`);
  });
}
