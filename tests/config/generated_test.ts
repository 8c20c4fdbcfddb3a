/**
 * What is generated from the option table stays in step with it: the
 * checked-in schema and README block equal what `scripts/gen_docs.ts`
 * would write, `--help` covers every option, and the README's examples are
 * valid configs.
 */

import assert from "node:assert/strict";
import { POLICY_KEYS } from "../../lib/config/policies/mod.ts";
import { optionsMarkdown, README_MARKERS } from "../../lib/config/docs.ts";
import { parseConfigFile } from "../../lib/config/file.ts";
import { validate } from "../../lib/config/json_schema.ts";
import { fileOptions, OPTION_NAMES, optionSpec, shownDefault } from "../../lib/config/options.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { generateSchema, schemaText } from "../../lib/config/schema.ts";
import { LB_USAGE, lbUsage } from "../../lib/config/usage.ts";
import { generatedFiles } from "../../scripts/gen_docs.ts";

const ROOT = new URL("../../", import.meta.url);
const STALE = "is out of date with lib/config/options.ts: run `deno run -A scripts/gen_docs.ts`";

Deno.test("schema/lb.schema.json is the generated schema", async () => {
  const text = await Deno.readTextFile(new URL("schema/lb.schema.json", ROOT));
  assert.ok(text === schemaText(), `schema/lb.schema.json ${STALE}`);
});

Deno.test("README.md's option tables are the generated ones", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  assert.ok(start !== -1 && end > start, "README.md has the options markers");
  const block = readme.slice(start + README_MARKERS.start.length, end).trim();
  assert.ok(block === optionsMarkdown(), `README.md's options block ${STALE}`);
});

Deno.test("gen_docs writes nothing new when everything is up to date", async () => {
  for (const [path, text] of Object.entries(await generatedFiles())) {
    assert.ok(text === await Deno.readTextFile(new URL(path, ROOT)), `${path} ${STALE}`);
  }
});

Deno.test("the README tables list every option, its env and default", () => {
  const md = optionsMarkdown();
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    assert.ok(md.includes(`\`--${name}`), name);
    if (spec.env) assert.ok(md.includes(`\`${spec.env}\``), spec.env);
  }
  assert.ok(md.includes("; per pool"));
});

Deno.test("--help: every option with its env and default, in lines of at most 100 columns", () => {
  assert.equal(LB_USAGE, lbUsage());
  const flat = LB_USAGE.replace(/\n +/g, " ");
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    assert.match(LB_USAGE, new RegExp(`^  (-\\w, )?--${name}\\b`, "m"), name);
    if (spec.env) assert.ok(flat.includes(`env ${spec.env}`), `${name}: env`);
    if (!spec.cliOnly) {
      assert.ok(flat.includes(`default ${shownDefault(name)}`), `${name}: default`);
    }
  }
  for (const line of LB_USAGE.split("\n")) assert.ok(line.length <= 100, line);
});

Deno.test("schema: every file option at the top level, pool ones per pool, routes, policies", () => {
  const schema = generateSchema();
  const top = Object.keys(schema.properties!);
  assert.deepEqual(top, [
    "$schema",
    ...fileOptions("global"),
    ...fileOptions("pool"),
    "pools",
    "routes",
    "policies",
  ]);
  const pool = schema.properties!.pools.additionalProperties;
  assert.ok(typeof pool === "object");
  assert.deepEqual(Object.keys(pool.properties!), fileOptions("pool"));
  assert.equal(schema.properties!.routes.items?.required?.[0], "match");
  assert.deepEqual(Object.keys(schema.properties!.policies.properties!), POLICY_KEYS);
  assert.deepEqual(
    schema.properties!.routes.items?.properties?.policies,
    schema.properties!.policies,
  );
});

Deno.test("schema: the old flat files still validate", () => {
  const flat = {
    $schema: "./schema/lb.schema.json",
    backends: [{ url: "http://10.0.0.5:8081", weight: 3, metadata: { zone: "a" } }, "x:1"],
    strategy: "p2c-ewma",
    "health-path": "/readyz",
    "retry-budget": 20,
    "eject-on-5xx": true,
    port: "8080",
    "health-interval": 0,
  };
  assert.deepEqual(validate(generateSchema(), flat), []);
});

Deno.test("the README's config file examples are valid", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const from = readme.indexOf("## Config file and live reload");
  const section = readme.slice(from, readme.indexOf("\n## ", from + 1));
  const blocks = [...section.matchAll(/```(json|yaml)\n([\s\S]*?)```/g)];
  assert.deepEqual(blocks.map((b) => b[1]), ["json", "yaml"]);
  for (const [, lang, text] of blocks) {
    const file = parseConfigFile(`lb.${lang}`, text);
    const command = parseLbArgs([], {}, () => "s", file);
    assert.equal(command.kind, "run", lang);
  }
});
