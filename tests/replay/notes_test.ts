/** The report's notes: the ground rules always, and each limit of the log only when the config meets it. */

import assert from "node:assert/strict";
import { replayNotes } from "../../lib/replay/notes.ts";
import { configOf } from "./_replay.ts";

Deno.test("a plain config gets only the ground rules", () => {
  const notes = replayNotes(configOf('backends: ["http://127.0.0.1:9001"]\n'), 3);
  assert.equal(notes.length, 3);
  assert.match(notes[0], /no listener, nothing sent/);
  assert.match(notes[1], /--seed 3/);
});

Deno.test("what the log can't feed is named: headers, cookies, credentials, Redis, trust-proxy, DNS, mirrors, env", () => {
  const config = configOf(
    "trust-proxy: 10.0.0.0/8\n" +
      "pools:\n" +
      '  a: { backends: ["http://127.0.0.1:9001"], strategy: sticky-cookie }\n' +
      '  b: { backends: ["http://127.0.0.1:9002"], strategy: consistent-hash, hash-key: "header:x-user" }\n' +
      '  c: { discover: ["dns:web.internal:80"] }\n' +
      "routes:\n" +
      "  - { name: beta, match: { headers: { x-beta: '1' } }, pool: a, mirror: c }\n" +
      "  - name: limited\n    match: { path-prefix: /api }\n    pool: b\n" +
      "    policies: { rate-limit: { limit: 5, period: 1s, store: { url: 'redis://127.0.0.1:6379' } } }\n" +
      "  - name: private\n    match: {}\n    pool: a\n" +
      "    policies: { forward-auth: { url: 'http://127.0.0.1:1/auth' } }\n",
  );
  const text = replayNotes(config, 1, ["LB_STRATEGY"]).join("\n");
  for (
    const pattern of [
      /header tests of routes beta never match/,
      /pool a: cookies are not logged/,
      /pool b: its hash key \(header x-user\) is not logged/,
      /pool c: discovers backends by DNS; only its 0 static ones/,
      /rate limits \(routes limited\) run local token buckets/,
      /routes limited use Redis live; simulated locally/,
      /auth on routes private: .*needs credentials/,
      /--trust-proxy is set/,
      /mirrored copies are not counted/,
      /environment variables ignored .*: LB_STRATEGY/,
    ]
  ) assert.match(text, pattern);
});
