/**
 * The option table itself: every entry complete and consistent, defaults
 * valid under their own kind, today's environment variables and
 * restart-only set, and settings that read back to the same config.
 */

import assert from "node:assert/strict";
import { Problems } from "../../lib/config/cli.ts";
import { YAML_ENV_VARS } from "../../lib/config/file.ts";
import {
  fileOptions,
  GROUPS,
  OPTION_NAMES,
  optionSpec,
  shownDefault,
} from "../../lib/config/options.ts";
import { LB_ENV_VARS, parseLbArgs } from "../../lib/config/parse.ts";
import { OptionReader } from "../../lib/config/values.ts";
import { config } from "./_config.ts";

Deno.test("options: every option has a kind, a group, help and a kebab-case name", () => {
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    assert.match(name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, name);
    assert.ok(spec.help.length > 10, `${name}: help`);
    assert.ok(!spec.help.endsWith("."), `${name}: help is a phrase, without a full stop`);
    assert.ok(spec.group in GROUPS, `${name}: group ${spec.group}`);
    assert.equal(typeof spec.kind.parse, "function", name);
    if (spec.kind.type !== "boolean") assert.ok(spec.kind.placeholder, `${name}: placeholder`);
    if (spec.cliOnly) assert.equal(spec.scope, "global", `${name}: command-line only is global`);
  }
});

Deno.test("options: names are unique, and so are environment variables", () => {
  assert.equal(new Set(OPTION_NAMES).size, OPTION_NAMES.length);
  const envs = OPTION_NAMES.flatMap((n) => optionSpec(n).env ?? []);
  assert.equal(new Set(envs).size, envs.length, envs.join(", "));
});

Deno.test("options: today's environment variables, each for its option", () => {
  const mapping = Object.fromEntries(
    OPTION_NAMES.flatMap((n) => (optionSpec(n).env ? [[optionSpec(n).env!, n]] : [])),
  );
  assert.deepEqual(mapping, {
    PROXY_PORT: "port",
    PROXY_HOST: "host",
    BACKENDS: "backends",
    LB_STRATEGY: "strategy",
    ADMIN_PORT: "admin-port",
    ADMIN_HOST: "admin-host",
    LOG_LEVEL: "log-level",
    OTEL_EXPORTER_OTLP_ENDPOINT: "otlp-endpoint",
    OTEL_EXPORTER_OTLP_HEADERS: "otlp-headers",
    OTEL_SERVICE_NAME: "otlp-service-name",
    STICKY_SECRET: "sticky-secret",
    ADMIN_TOKEN: "admin-token",
    LB_CONFIG: "config",
    LB_WORKERS: "workers",
  });
  assert.deepEqual([...LB_ENV_VARS].sort(), [...Object.keys(mapping), ...YAML_ENV_VARS].sort());
});

Deno.test("options: every group has options", () => {
  for (const group of Object.keys(GROUPS)) {
    assert.ok(OPTION_NAMES.some((n) => optionSpec(n).group === group), group);
  }
});

Deno.test("options: every literal default parses under its own kind without a problem", () => {
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    if (typeof spec.default !== "string") continue;
    const problems: string[] = [];
    spec.kind.parse(spec.default, (m) => problems.push(m));
    assert.deepEqual(problems, [], name);
  }
});

Deno.test("options: every derived default computes to text its kind accepts", () => {
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    if (typeof spec.default === "string") continue;
    assert.ok(spec.default.shown, `${name}: a derived default says how it is derived`);
    for (const named of [false, true]) {
      const p = new Problems();
      const reader = new OptionReader(p, { flags: {}, env: {} });
      const raw = spec.default.compute((n) => reader.get(n as typeof name), named);
      const problems: string[] = [];
      spec.kind.parse(raw, (m) => problems.push(m));
      assert.deepEqual([...p.list, ...problems], [], `${name} (named: ${named}): ${raw}`);
    }
  }
});

Deno.test("options: the restart-only set", () => {
  const restart = OPTION_NAMES.filter((n) => {
    const spec = optionSpec(n);
    return !spec.cliOnly && (!spec.reload || spec.toggleNeedsRestart);
  });
  assert.deepEqual(restart.sort(), [
    "access-log",
    "access-log-fields",
    "access-log-file",
    "access-log-format",
    "access-log-template",
    "admin-host",
    "admin-port",
    "backend-ca",
    "client-body-timeout",
    "client-header-timeout",
    "client-idle-timeout",
    "connect-timeout",
    "ewma-decay",
    "front",
    "host",
    "idle-timeout",
    "log-format",
    "log-level",
    "max-client-connections",
    "mirror-max-in-flight",
    "otlp-batch-size",
    "otlp-endpoint",
    "otlp-headers",
    "otlp-interval",
    "otlp-queue-size",
    "otlp-service-name",
    "otlp-timeout",
    "port",
    "proxy-protocol",
    "slow-start",
    "tls-cert",
    "transport",
    "try-timeout",
    "upstream-connections",
    "workers",
    "ws-idle-timeout",
    "ws-max-buffer",
  ]);
});

Deno.test("options: the command-line-only flags", () => {
  assert.deepEqual(OPTION_NAMES.filter((n) => optionSpec(n).cliOnly), [
    "config",
    "check",
    "help",
    "version",
  ]);
  assert.equal(parseLbArgs(["--check"], {}, () => "s").kind, "check");
});

Deno.test("options: defaults shown in help say something", () => {
  for (const name of OPTION_NAMES) {
    if (!optionSpec(name).cliOnly) assert.notEqual(shownDefault(name), "", name);
  }
});

Deno.test('settings: every file option, global under "" and pool ones under the pool', () => {
  const c = config([]);
  assert.deepEqual(Object.keys(c.settings), ["", "default"]);
  assert.deepEqual(Object.keys(c.settings[""]), fileOptions("global"));
  assert.deepEqual(Object.keys(c.settings.default), fileOptions("pool"));
  assert.equal(c.settings[""].port, "8080");
  assert.equal(c.settings.default["health-interval"], "5s");
  assert.equal(c.settings.default["health-down-interval"], "1s");
  assert.equal(c.settings.default["try-timeout"], "1m");
});

Deno.test("settings read back as flags give the same config", () => {
  const original = config([
    "--backends=http://a:1=3,b:2",
    "--hash-key=header:X-User",
    "--health-status=204",
    "--health-path=/readyz",
    "--discover=dns:web.internal,srv:_http._tcp.api",
    "--dns-server=[::1]:5353",
    "--trust-proxy=10.0.0.0/8,::1",
    "--retry-buffer=1000",
    "--max-client-connections=50",
    "--slow-start=1500ms",
    "--access-log",
    "--admin-token=a-long-enough-token",
  ]);
  const { settings } = original;
  const args = [...Object.entries(settings[""]), ...Object.entries(settings.default)]
    // Secrets are not written out; switches are flags without a value.
    .filter(([name, value]) => !optionSpec(name as never).secret && value !== "false")
    .map(([name, value]) => (value === "true" ? `--${name}` : `--${name}=${value}`));
  const again = config([...args, "--admin-token=a-long-enough-token"]);
  assert.deepEqual(again, original);
});
