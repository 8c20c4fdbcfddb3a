/**
 * Basic auth's parts on their own: htpasswd lines and hash schemes, the
 * config (inline users and a file read at load), strict `Authorization`
 * parsing, the verified-credentials cache on a fake clock, the bcrypt
 * thread, and the policy with a stand-in verifier (cache hits, the queue
 * bound, strip, a dead worker).
 */

import assert from "node:assert/strict";
import { fakeExchange } from "./_exchange.ts";
import bcrypt from "bcryptjs";
import { UsageError } from "../../lib/config/cli.ts";
import { loadConfigFile, parseConfigFile } from "../../lib/config/file.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { hashProblem, parseHtpasswd } from "../../lib/config/policies/htpasswd.ts";
import type { BasicAuthConfig } from "../../lib/config/policies/types.ts";
import { log } from "../../lib/core/logging.ts";
import type { ProxyReply } from "../../lib/core/message.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { BcryptVerifier } from "../../lib/policy/auth_bcrypt.ts";
import { VerifiedCache, verifiedKey } from "../../lib/policy/auth_cache.ts";
import { basicChallenge, basicCredentials, parseBasic } from "../../lib/policy/auth_credentials.ts";
import { createBasicAuth, dummyHash } from "../../lib/policy/basic_auth.ts";
import { PolicyRuntime } from "../../lib/policy/runtime.ts";
import type { PolicyExchange } from "../../lib/policy/types.ts";

const HASH = bcrypt.hashSync("secret", 4); // $2b$04$…
const Y_HASH = HASH.replace("$2b$", "$2y$");
const b64 = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
};

// --- htpasswd ---------------------------------------------------------------

Deno.test("hashProblem: bcrypt $2a$/$2b$/$2y$ of cost 4-17 pass; every other scheme is named", () => {
  assert.equal(hashProblem(HASH), undefined);
  assert.equal(hashProblem(Y_HASH), undefined);
  assert.equal(hashProblem(HASH.replace("$2b$", "$2a$")), undefined);
  assert.match(hashProblem(HASH.replace("$04$", "$03$"))!, /cost 3 is outside 4-17/);
  assert.match(hashProblem(HASH.replace("$04$", "$18$"))!, /cost 18/);
  const named: [string, RegExp][] = [
    ["$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", /MD5 \(apr1\)/],
    ["{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", /SHA-1/],
    ["$1$abcdefgh$abcdefghijklmnopqrstuv", /MD5-crypt/],
    ["$6$salt$abc", /SHA-512-crypt/],
    ["$2x$04$" + HASH.slice(7), /unsupported version/],
    ["abJnggxhB/yWI", /DES crypt/],
    ["plaintext password", /not a bcrypt hash/],
    [HASH.slice(0, -1), /not a bcrypt hash/],
  ];
  for (const [hash, re] of named) {
    const problem = hashProblem(hash);
    assert.match(problem!, re, hash);
    assert.match(problem!, /only bcrypt/);
  }
});

Deno.test("parseHtpasswd: user:hash lines, comments, blanks and CRLF; bad lines reported by number", () => {
  const problems: string[] = [];
  const text = [
    "# users",
    `alice:${HASH}`,
    "",
    `bob:${Y_HASH}\r`,
    "carol:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/",
    "no colon here",
    `alice:${HASH}`,
    `:${HASH}`,
    `dave:${HASH}  `,
  ].join("\n");
  const entries = parseHtpasswd(text, (line, m) => problems.push(`${line}: ${m}`));
  assert.deepEqual(entries.map((e) => [e.user, e.line]), [["alice", 2], ["bob", 4], ["dave", 9]]);
  assert.equal(entries[1].hash, Y_HASH);
  assert.equal(problems.length, 4);
  assert.match(problems[0], /^5: user "carol": an MD5 \(apr1\) hash; only bcrypt/);
  assert.match(problems[1], /^6: not a user:hash line/);
  assert.match(problems[2], /^7: user "alice" is already on line 2/);
  assert.match(problems[3], /^8: an empty user name/);
});

// --- config -----------------------------------------------------------------

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.problems;
  }
  assert.fail("expected a UsageError");
}

const ARGS = ["--backends", "http://127.0.0.1:1"];

Deno.test("config: inline users are checked, every problem names its key; defaults", () => {
  const parse = (auth: unknown) =>
    parseLbArgs(
      ARGS,
      {},
      undefined,
      parseConfigFile("lb.yaml", JSON.stringify({ policies: { "basic-auth": auth } })),
    );
  const ok = parse({ users: { alice: HASH } });
  assert.ok(ok.kind === "run");
  const auth = ok.config.routes[0].policies!.basicAuth!;
  assert.deepEqual({ ...auth, users: [...auth.users] }, {
    realm: "restricted",
    users: [["alice", HASH]],
    strip: true,
    cacheTtlMs: 60_000,
    cacheSize: 1000,
    maxPending: 16,
  });
  const list = problemsOf(() =>
    parse({
      realm: 'say "hi"\n',
      users: { bob: "$apr1$x$y", "a:b": HASH },
      "cache-ttl": "soon",
    })
  );
  assert.deepEqual(list, [
    "--config: lb.yaml: policies.basic-auth.realm: a realm is 1 or more visible ASCII characters or spaces",
    "--config: lb.yaml: policies.basic-auth.users.bob: an MD5 (apr1) hash; only bcrypt ($2y$, $2b$, $2a$: htpasswd -B) is accepted",
    '--config: lb.yaml: policies.basic-auth.users.a:b: user "a:b" contains ":"',
    '--config: lb.yaml: policies.basic-auth.cache-ttl: "soon" is not a duration (e.g. 30s, 1m, 0)',
  ]);
  assert.deepEqual(problemsOf(() => parse({ strip: false })), [
    "--config: lb.yaml: policies.basic-auth: needs users, an htpasswd file, or both",
  ]);
  assert.deepEqual(problemsOf(() => parse({ htpasswd: "users.htpasswd" })), [
    "--config: lb.yaml: policies.basic-auth.htpasswd: the file was not read: a config naming one must be loaded with loadConfigFile",
  ]);
});

Deno.test("config: an htpasswd file is read with the config, relative to it, and again on the next load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-htpasswd-" });
  try {
    const path = `${dir}/lb.yaml`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        policies: { "basic-auth": { htpasswd: "users.htpasswd", users: { zed: HASH } } },
        routes: [
          { name: "a", match: {}, pool: "default" },
          { name: "b", match: {}, pool: "default", policies: { "basic-auth": false } },
        ],
      }),
    );
    const load = async () => parseLbArgs(ARGS, {}, undefined, await loadConfigFile(path));
    const missing = await load().catch((e: UsageError) => e.problems);
    assert.ok(Array.isArray(missing) && missing.length === 1);
    assert.ok(
      missing[0].startsWith(
        `--config: ${path}: policies.basic-auth.htpasswd: can't read ${dir}/users.htpasswd (`,
      ),
      missing[0],
    );
    await Deno.writeTextFile(`${dir}/users.htpasswd`, `alice:${HASH}\nbob:${Y_HASH}\n`);
    const first = await load();
    assert.ok(first.kind === "run");
    assert.deepEqual([...first.config.routes[0].policies!.basicAuth!.users.keys()], [
      "zed",
      "alice",
      "bob",
    ]);
    assert.equal(first.config.routes[0].policies!.basicAuth!.htpasswd, "users.htpasswd");
    assert.equal(first.config.routes[1].policies?.basicAuth, undefined);
    // A reload reads the file again: a weak hash added since is refused by line.
    await Deno.writeTextFile(
      `${dir}/users.htpasswd`,
      `alice:${HASH}\n# old\ncarol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nzed:${HASH}\n`,
    );
    assert.deepEqual(await load().catch((e: UsageError) => e.problems), [
      `--config: ${path}: policies.basic-auth.htpasswd: ${dir}/users.htpasswd line 3: user "carol": a SHA-1 hash; only bcrypt ($2y$, $2b$, $2a$: htpasswd -B) is accepted`,
      `--config: ${path}: policies.basic-auth.htpasswd: ${dir}/users.htpasswd line 4: user "zed" is also given in users`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Authorization ----------------------------------------------------------

Deno.test("parseBasic: strict RFC 7617 credentials", () => {
  assert.deepEqual(parseBasic(`Basic ${b64("alice:se:cret")}`), {
    user: "alice",
    password: "se:cret",
    text: "alice:se:cret",
  });
  assert.equal(parseBasic(`bAsIc   ${b64("alice:x")}`)?.user, "alice"); // scheme any case, 1*SP
  assert.deepEqual(parseBasic(`Basic ${b64("jürgen:pässword")}`), {
    user: "jürgen",
    password: "pässword",
    text: "jürgen:pässword",
  });
  assert.equal(parseBasic(`Basic ${b64("alice:")}`)?.password, ""); // an empty password is a password
  const refused = [
    "",
    "Basic",
    `Bearer ${b64("alice:x")}`,
    `Basic${b64("alice:x")}`, // no space
    `Basic ${b64("alice:x")} `, // trailing junk
    `Basic ${b64("alicex")}`, // no colon
    `Basic ${b64(":x")}`, // empty user
    `Basic ${b64("al\x01ice:x")}`, // control character
    `Basic ${b64("alice:x\n")}`,
    `Basic ${b64("alice:xy").replace(/=+$/, "")}`, // padding missing
    "Basic YWxpY2U6eB==", // "alice:x" with stray bits: not canonical
    "Basic YWxp Y2U6eA==",
    "Basic " + btoa("alice:\xff\xfe"), // not UTF-8
    "Basic @@@@",
  ];
  for (const value of refused) assert.equal(parseBasic(value), undefined, JSON.stringify(value));
});

Deno.test("basicCredentials: exactly one Authorization field; basicChallenge quotes the realm", () => {
  const field = `Basic ${b64("alice:x")}`;
  assert.equal(basicCredentials([["authorization", field]])?.user, "alice");
  assert.equal(basicCredentials([]), undefined);
  assert.equal(basicCredentials([["authorization", field], ["authorization", field]]), undefined);
  assert.equal(basicChallenge("restricted"), 'Basic realm="restricted", charset="UTF-8"');
  assert.equal(basicChallenge('a "b" \\c'), 'Basic realm="a \\"b\\" \\\\c", charset="UTF-8"');
});

// --- cache ------------------------------------------------------------------

Deno.test("VerifiedCache: entries expire after the TTL (fake clock), least recently used go first", () => {
  let now = 0;
  const cache = new VerifiedCache(2, 1000, () => now);
  cache.add("a");
  now = 500;
  cache.add("b");
  assert.equal(cache.has("a"), true); // a is now the most recent
  cache.add("c"); // pushes out b, the least recent
  assert.equal(cache.has("b"), false);
  assert.equal(cache.has("a"), true);
  assert.equal(cache.size, 2);
  now = 1000; // a was added at 0: its lifetime is over, hits don't extend it
  assert.equal(cache.has("a"), false);
  assert.equal(cache.has("c"), true);
  now = 1500;
  assert.equal(cache.has("c"), false);
  assert.equal(cache.size, 0);
  const off = new VerifiedCache(10, 0, () => now);
  off.add("a");
  assert.equal(off.has("a"), false);
});

Deno.test("verifiedKey: depends on the credentials and on the stored hash, and holds no password", () => {
  const key = verifiedKey("alice:secret", HASH);
  assert.equal(key, verifiedKey("alice:secret", HASH));
  assert.notEqual(key, verifiedKey("alice:secret2", HASH));
  assert.notEqual(key, verifiedKey("alice:secret", Y_HASH));
  assert.ok(!key.includes("secret"));
  assert.match(key, /^[0-9a-f]{64}$/); // hex of 32 bytes
});

// --- bcrypt thread ------------------------------------------------------------

Deno.test("BcryptVerifier: checks on its own thread ($2b$ and $2y$), the dummy hash matches nothing; closed, it refuses", async () => {
  const v = new BcryptVerifier();
  try {
    const checks = [
      v.verify("secret", HASH),
      v.verify("wrong", HASH),
      v.verify("secret", Y_HASH),
      v.verify("secret", dummyHash(4)),
      v.verify("", dummyHash(4)),
    ];
    assert.equal(v.pending, 5);
    assert.deepEqual(await Promise.all(checks), [true, false, true, false, false]);
    assert.equal(v.pending, 0);
  } finally {
    await v.close();
  }
  await assert.rejects(v.verify("secret", HASH), /closed/);
});

// --- the policy with a stand-in verifier ------------------------------------------

class FakeVerifier extends BcryptVerifier {
  calls = 0;
  waiting: (() => void)[] = [];
  fail = false;
  #pending = 0;
  override get pending(): number {
    return this.#pending;
  }
  override verify(password: string, hash: string): Promise<boolean> {
    this.calls++;
    this.#pending++;
    return new Promise((resolve, reject) => {
      this.waiting.push(() => {
        this.#pending--;
        if (this.fail) reject(new Error("worker died"));
        else resolve(hash === HASH && password === "secret");
      });
    });
  }
  release(): void {
    for (const go of this.waiting.splice(0)) go();
  }
}

function exchange(headers: HeaderPairs): PolicyExchange {
  return fakeExchange({ headers, upstreamHeaders: [["host", "site.test"], ...headers] });
}

function setup(overrides: Partial<BasicAuthConfig> = {}) {
  let now = 0;
  const metrics = createLbMetrics();
  const runtime = new PolicyRuntime({ metrics, log: log("test"), now: () => now });
  const fake = new FakeVerifier();
  const config: BasicAuthConfig = {
    realm: "site",
    users: new Map([["alice", HASH]]),
    strip: true,
    cacheTtlMs: 60_000,
    cacheSize: 100,
    maxPending: 2,
    ...overrides,
  };
  const policy = createBasicAuth(config, runtime.deps, "r", fake);
  return {
    fake,
    metrics,
    advance: (ms: number) => now += ms,
    run: (headers: HeaderPairs) => {
      const x = exchange(headers);
      return { x, out: policy.request!(x) };
    },
  };
}

const auth = (user: string, password: string): HeaderPairs => [[
  "authorization",
  `Basic ${b64(`${user}:${password}`)}`,
]];

Deno.test("basic-auth policy: a verified client is remembered for the TTL and then checked again; strip and x.user", async () => {
  const s = setup();
  const first = s.run(auth("alice", "secret"));
  assert.ok(first.out instanceof Promise);
  s.fake.release();
  assert.equal(await first.out, undefined);
  assert.equal(first.x.user, "alice");
  assert.deepEqual(first.x.upstreamHeaders, [["host", "site.test"]]); // Authorization stripped
  // Within the TTL: synchronous, no bcrypt.
  const second = s.run(auth("alice", "secret"));
  assert.equal(second.out, undefined);
  assert.equal(second.x.user, "alice");
  assert.equal(s.fake.calls, 1);
  s.advance(60_000);
  const third = s.run(auth("alice", "secret"));
  assert.ok(third.out instanceof Promise);
  s.fake.release();
  assert.equal(await third.out, undefined);
  assert.equal(s.fake.calls, 2);
});

Deno.test("basic-auth policy: when a cached entry expires under load, the requests carrying it share one bcrypt check", async () => {
  const s = setup({ maxPending: 1 });
  const warm = s.run(auth("alice", "secret"));
  s.fake.release();
  assert.equal(await warm.out, undefined);
  s.advance(60_000);
  const burst = Array.from({ length: 50 }, () => s.run(auth("alice", "secret")));
  assert.equal(s.fake.calls, 2, "one check for the whole burst");
  // Another user's check still waits its turn under max-pending.
  const other = s.run(auth("alice", "wrong"));
  assert.equal(((await other.out) as ProxyReply).status, 503);
  s.fake.release();
  for (const b of burst) assert.equal(await b.out, undefined);
  assert.ok(burst.every((b) => b.x.user === "alice"));
  // And the next one is a cache hit again.
  assert.equal(s.run(auth("alice", "secret")).out, undefined);
  assert.equal(s.fake.calls, 2);
});

Deno.test("basic-auth policy: wrong, unknown and missing credentials get 401 with the challenge; failures are never cached", async () => {
  const s = setup({ strip: false });
  const expect401 = (reply: ProxyReply | undefined) => {
    assert.equal(reply?.status, 401);
    assert.ok(
      reply.headers.some(([n, v]) =>
        n === "www-authenticate" && v === 'Basic realm="site", charset="UTF-8"'
      ),
    );
  };
  expect401(s.run([]).out as ProxyReply); // no bcrypt for no credentials
  expect401(s.run([["authorization", "Basic !!"]]).out as ProxyReply);
  assert.equal(s.fake.calls, 0);
  for (const [user, password] of [["alice", "wrong"], ["alice", "wrong"], ["mallory", "secret"]]) {
    const { out } = s.run(auth(user, password));
    s.fake.release();
    expect401(await out);
  }
  assert.equal(s.fake.calls, 3); // the unknown user was checked too (against the dummy hash)
  const ok = s.run(auth("alice", "secret"));
  s.fake.release();
  assert.equal(await ok.out, undefined);
  assert.equal(ok.x.upstreamHeaders.length, 2); // strip: false keeps Authorization
  const denied = s.metrics.registry.render().split("\n")
    .find((l) => l.startsWith('lb_policy_denied_total{route="r",policy="basic-auth"}'));
  assert.equal(denied, 'lb_policy_denied_total{route="r",policy="basic-auth"} 5');
});

Deno.test("basic-auth policy: past max-pending checks, 503 with Retry-After and no bcrypt; a dead worker fails closed", async () => {
  const s = setup();
  const a = s.run(auth("alice", "wrong1"));
  const b = s.run(auth("alice", "wrong2"));
  const c = s.run(auth("alice", "wrong3")).out as ProxyReply;
  assert.equal(c.status, 503);
  assert.deepEqual(c.headers.find(([n]) => n === "retry-after"), ["retry-after", "1"]);
  assert.equal(s.fake.calls, 2);
  s.fake.fail = true;
  s.fake.release();
  assert.equal((await a.out)?.status, 503);
  assert.equal((await b.out)?.status, 503);
  assert.equal(a.x.user, undefined);
});
