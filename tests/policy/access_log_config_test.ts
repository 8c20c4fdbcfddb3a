/**
 * The access-log options: what turns the log on, which format a file or a
 * template chooses, and every contradiction or unknown name refused with
 * the flag or file key it came from (the lb exits 2 on these; one case is
 * run through the real program); and `policies.access-log` per route.
 */

import assert from "node:assert/strict";
import { config, problems, yamlConfig, yamlProblems } from "../config/_config.ts";
import { DEFAULT_JSON_FIELDS } from "../../lib/core/access_record.ts";
import { runDeno } from "../_process.ts";

Deno.test("config: --access-log alone keeps the lb's own log; a format, file or template turns it on", () => {
  const off = config([]);
  assert.equal(off.accessLog, false);
  assert.deepEqual(off.accessLogOutput, {
    format: "log",
    fields: DEFAULT_JSON_FIELDS,
    template: "",
    file: undefined,
  });
  assert.equal(config(["--access-log"]).accessLogOutput.format, "log");
  assert.equal(config(["--access-log"]).accessLog, true);
  const file = config(["--access-log-file", "/var/log/lb/access.log"]);
  assert.equal(file.accessLog, true);
  assert.deepEqual(file.accessLogOutput, {
    format: "json",
    fields: DEFAULT_JSON_FIELDS,
    template: "",
    file: "/var/log/lb/access.log",
  });
  const template = config(["--access-log-template", "$status $path"]);
  assert.equal(template.accessLog, true);
  assert.equal(template.accessLogOutput.format, "template");
  const combined = config(["--access-log-format", "combined", "--access-log-file", "a.log"]);
  assert.equal(combined.accessLog, true);
  assert.equal(combined.accessLogOutput.format, "combined");
  const fields = config(["--access-log-fields", "status, path,time"]);
  assert.equal(fields.accessLogOutput.format, "json");
  assert.deepEqual(fields.accessLogOutput.fields, ["status", "path", "time"]);
  assert.equal(fields.settings[""]["access-log-fields"], "status,path,time");
  // Only `log` itself leaves a switched-off log off.
  assert.equal(config(["--access-log-format", "log"]).accessLog, false);
});

Deno.test("config: the file's keys, with the same rules", () => {
  const c = yamlConfig(
    "access-log-format: template\naccess-log-template: '$client \"$request\" $status'\n" +
      "access-log-file: /tmp/x.log\n",
  );
  assert.equal(c.accessLog, true);
  assert.deepEqual(c.accessLogOutput, {
    format: "template",
    fields: DEFAULT_JSON_FIELDS,
    template: '$client "$request" $status',
    file: "/tmp/x.log",
  });
  const listed = yamlConfig("access-log-fields: [time, status]\naccess-log-format: json\n");
  assert.deepEqual(listed.accessLogOutput.fields, ["time", "status"]);
});

Deno.test("config: unknown fields and variables, and contradictions, name their option", () => {
  assert.deepEqual(problems(["--access-log-format=json", "--access-log-fields", "status,nope"]), [
    '--access-log-fields: "nope" is not a field (expected one of time, time_local, client, ' +
    "user, method, path, protocol, request, status, bytes, duration_ms, host, referer, " +
    "user_agent, route, pool, backend, request_id, explain)",
  ]);
  assert.match(
    problems(["--access-log-template", "$client $remote_addr"])[0],
    /^--access-log-template: "\$client \$remote_addr": unknown variable \$remote_addr \(expected one of \$time, /,
  );
  assert.deepEqual(problems(["--access-log-format", "apache"]), [
    '--access-log-format: "apache" is not one of log, json, combined, common, template',
  ]);
  assert.deepEqual(problems(["--access-log-format", "template"]), [
    "--access-log-format: the template format needs --access-log-template",
  ]);
  assert.deepEqual(problems(["--access-log-format", "combined", "--access-log-fields", "status"]), [
    "--access-log-fields: applies to the json format only, not combined",
  ]);
  assert.deepEqual(problems(["--access-log-format", "json", "--access-log-template", "$status"]), [
    "--access-log-template: applies to the template format only, not json",
  ]);
  assert.deepEqual(problems(["--access-log-format", "log", "--access-log-file", "a.log"]), [
    "--access-log-file: the log format writes through the lb's own log on stdout; " +
    "choose json, combined, common or template to write a file",
  ]);
  assert.deepEqual(problems(["--access-log-fields", "status,path,status"]), [
    "--access-log-fields: names status twice",
  ]);
  assert.deepEqual(problems(["--access-log-format", "json", "--access-log-fields", ","]), [
    "--access-log-fields: must name at least one field",
  ]);
  assert.deepEqual(yamlProblems("access-log: false\naccess-log-format: json\n"), [
    "--config: lb.yaml: access-log: is false, but the access-log-* options say how to write it",
  ]);
  assert.deepEqual(yamlProblems("access-log-format: json\naccess-log-fields: [status, bogus]\n"), [
    '--config: lb.yaml: access-log-fields: "bogus" is not a field (expected one of time, ' +
    "time_local, client, user, method, path, protocol, request, status, bytes, duration_ms, " +
    "host, referer, user_agent, route, pool, backend, request_id, explain)",
  ]);
});

Deno.test("config: policies.access-log is true or false, per route over the default", () => {
  const c = yamlConfig(
    "policies: { access-log: false }\nroutes:\n" +
      "  - { name: quiet, match: { path: /healthz }, pool: default }\n" +
      "  - { name: loud, match: {}, pool: default, policies: { access-log: true } }\n",
    ["--backends", "http://127.0.0.1:1"],
  );
  assert.deepEqual(c.routes.map((r) => [r.name, r.policies?.accessLog?.enabled]), [
    ["quiet", false],
    ["loud", true],
  ]);
  const bad = yamlProblems(
    "routes:\n  - { match: {}, pool: default, policies: { access-log: sometimes } }\n",
    ["--backends", "http://127.0.0.1:1"],
  );
  assert.equal(bad.length, 1);
  assert.match(bad[0], /^--config: lb\.yaml: routes\[0\]\.policies\.access-log: /);
});

Deno.test("config: the real program exits 2 on an unknown field, naming it", async () => {
  const { code, stderr } = await runDeno("main.ts", [
    "--access-log-format",
    "json",
    "--access-log-fields",
    "time,stauts",
  ]);
  assert.equal(code, 2);
  assert.match(stderr, /^lb: --access-log-fields: "stauts" is not a field \(expected one of /m);
});

Deno.test("config: a file that can't be opened (or written: no --allow-write) stops the start with exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await runDeno("main.ts", [
      "--backends",
      "http://127.0.0.1:9",
      "--port",
      "0",
      "--admin-port",
      "0",
      "--access-log-file",
      `${dir}/no-such-dir/access.log`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^lb: --access-log-file: can't open .*no-such-dir\/access\.log: No such file or directory/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
