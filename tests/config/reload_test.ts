/**
 * `restartNeeded`: which changed options a reload can't apply, from the
 * option table's `reload` marks and the configs' settings.
 */

import assert from "node:assert/strict";
import { restartNeeded } from "../../lib/config/reload.ts";
import type { LbConfig } from "../../lib/config/types.ts";
import { config, yamlConfig } from "./_config.ts";

const BASE = ["--backends", "a:1"];

/** From `before` to `after` (extra flags on top of BASE), the options needing a restart. */
const CASES: { name: string; before?: string[]; after: string[]; restart: string[] }[] = [
  { name: "nothing changed", after: [], restart: [] },
  {
    name: "reloadable global and pool options",
    after: [
      "--retries",
      "0",
      "--strategy",
      "random",
      "--trust-proxy",
      "10.0.0.0/8",
      "--admin-token",
      "a-long-enough-token",
      "--no-route-status",
      "421",
    ],
    restart: [],
  },
  { name: "new backends", after: ["--backends", "b:1"], restart: [] },
  { name: "the listener port", after: ["--port", "9000"], restart: ["port"] },
  {
    name: "every restart-only global option",
    after: [
      "--host=127.0.0.1",
      "--port=81",
      "--admin-host=::1",
      "--admin-port=82",
      "--log-level=debug",
      "--log-format=json",
      "--access-log",
      "--front=deno-serve",
      "--client-header-timeout=1s",
      "--client-idle-timeout=1s",
      "--client-body-timeout=1s",
      "--max-client-connections=10",
    ],
    restart: [
      "port",
      "host",
      "admin-port",
      "admin-host",
      "log-level",
      "log-format",
      "access-log",
      "front",
      "client-header-timeout",
      "client-idle-timeout",
      "client-body-timeout",
      "max-client-connections",
    ],
  },
  {
    name: "PROXY protocol on",
    before: ["--trust-proxy", "10.0.0.0/8"],
    after: ["--trust-proxy", "10.0.0.0/8", "--proxy-protocol"],
    restart: ["proxy-protocol"],
  },
  {
    name: "every restart-only pool option, named by pool",
    after: [
      "--transport=node-http",
      "--connect-timeout=1s",
      "--idle-timeout=1s",
      "--try-timeout=1s",
      "--upstream-connections=1",
      "--ewma-decay=1s",
      "--slow-start=1s",
      "--backend-ca=ca.pem",
    ],
    restart: [
      "pools.default.transport",
      "pools.default.ewma-decay",
      "pools.default.slow-start",
      "pools.default.connect-timeout",
      "pools.default.idle-timeout",
      "pools.default.backend-ca",
      "pools.default.try-timeout",
      "pools.default.upstream-connections",
    ],
  },
  {
    name: "the same value written differently",
    before: ["--connect-timeout", "5000ms", "--retry-buffer", "65536"],
    after: ["--connect-timeout", "5s", "--retry-buffer", "64KiB"],
    restart: [],
  },
  {
    name: "a new response timeout moves the derived try timeout",
    after: ["--response-timeout", "7s"],
    restart: ["pools.default.try-timeout"],
  },
  {
    name: "TLS turned on",
    after: ["--tls-cert", "c.pem", "--tls-key", "k.pem"],
    restart: ["tls-cert"],
  },
  {
    name: "TLS turned off",
    before: ["--tls-cert", "c.pem", "--tls-key", "k.pem"],
    after: [],
    restart: ["tls-cert"],
  },
  {
    name: "new TLS files (applied by rebinding)",
    before: ["--tls-cert", "c.pem", "--tls-key", "k.pem"],
    after: ["--tls-cert", "c2.pem", "--tls-key", "k2.pem"],
    restart: [],
  },
];

for (const { name, before = [], after, restart } of CASES) {
  Deno.test(`restartNeeded: ${name}`, () => {
    assert.deepEqual(
      restartNeeded(config([...BASE, ...before]), config([...BASE, ...after])),
      restart,
    );
  });
}

const pools = (web: string, api: string | undefined): LbConfig =>
  yamlConfig(
    `pools:\n  web: { backends: a:1${web} }\n` +
      (api === undefined ? "" : `  api: { backends: b:1${api} }\n`) +
      "routes: [{ match: {}, pool: web }]\n",
  );

Deno.test("restartNeeded: pool options only for pools in both configs", () => {
  assert.deepEqual(
    restartNeeded(pools("", ""), pools(", transport: node-http", ", idle-timeout: 1s")),
    [
      "pools.web.transport",
      "pools.api.idle-timeout",
    ],
  );
  // A pool that comes or goes starts or stops with its own settings.
  assert.deepEqual(restartNeeded(pools("", undefined), pools("", ", transport: node-http")), []);
  assert.deepEqual(restartNeeded(pools("", ", transport: node-http"), pools("", undefined)), []);
});

Deno.test("restartNeeded: an inherited change counts for every pool", () => {
  const before = pools("", "");
  const after = yamlConfig(
    "transport: node-http\npools:\n  web: { backends: a:1 }\n  api: { backends: b:1 }\n" +
      "routes: [{ match: {}, pool: web }]\n",
  );
  assert.deepEqual(restartNeeded(before, after), ["pools.web.transport", "pools.api.transport"]);
});

Deno.test("restartNeeded is pure: it reads only settings", () => {
  const a = config(BASE);
  const b = config([...BASE, "--port", "1"]);
  const copyA = structuredClone(a);
  restartNeeded(a, b);
  assert.deepEqual(a, copyA);
});
