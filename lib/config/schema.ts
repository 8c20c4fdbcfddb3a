/**
 * The config file's JSON schema, generated from the option table: every
 * global and pool option at the top level, `pools` (name -> the pool
 * options), and `routes`. The checked-in `schema/lb.schema.json` (for
 * editors) must equal it; `scripts/gen_docs.ts` writes it and a test
 * compares. The file is validated against this same value, so what editors
 * flag and what `lb` refuses can't drift apart. Semantic rules (pool
 * references, host and path syntax, derived rules) are checked in code.
 *
 * @module
 */

import type { Schema } from "./json_schema.ts";
import { fileOptions, type OptionName, optionSpec, type Scope } from "./options.ts";
import { policiesSchema } from "./policies/mod.ts";

/** Pool and route names: they become metric labels, so they are kept short and plain. */
export const NAME_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$";

const NAME: Schema = {
  type: "string",
  pattern: NAME_PATTERN,
  description: "lower-case letters, digits, _ and -, starting with a letter or digit, 1-63 long",
};

const STRINGS: Schema = {
  oneOf: [{ type: "string" }, { type: "array", minItems: 1, items: { type: "string" } }],
};

const FIELDS: Schema = { type: "object", additionalProperties: STRINGS };

/** What a route's `match` accepts: every test given must pass; a list means any of its items. */
const MATCH: Schema = {
  type: "object",
  additionalProperties: false,
  description: "Every test given must pass; a list means any of its items. {} matches everything.",
  properties: {
    host: { ...STRINGS, description: "host names, or *.domain for its subdomains (no port)" },
    "path-prefix": { ...STRINGS, description: "path prefixes, by whole segments" },
    path: { ...STRINGS, description: "exact paths (query excluded)" },
    method: { ...STRINGS, description: "request methods" },
    headers: { ...FIELDS, description: "field name \u2192 accepted value(s), exact" },
    query: { ...FIELDS, description: "query parameter \u2192 accepted value(s), exact, decoded" },
  },
};

const ROUTE: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["match"],
  oneOf: [{ required: ["pool"] }, { required: ["split"] }],
  properties: {
    name: NAME,
    match: MATCH,
    pool: { type: "string", description: "the pool that serves matching requests" },
    split: {
      type: "object",
      minProperties: 1,
      description: "pool \u2192 weight: matching requests are shared among pools by weight",
      additionalProperties: { type: "integer", minimum: 1, maximum: 10_000 },
    },
    mirror: { type: "string", description: "a pool that gets a copy of each request" },
    "strip-prefix": { type: "string", description: "removed from the path before it goes on" },
    "replace-prefix": { type: "string", description: "put in place of strip-prefix (needs it)" },
    policies: policiesSchema(),
  },
};

/** The JSON schema of option `name` as a file key, with its help and default. */
function optionSchema(name: OptionName): Schema {
  const spec = optionSpec(name);
  const shown = typeof spec.default === "string" ? spec.shown : spec.default.shown;
  const described = { ...spec.kind.schema, description: spec.help };
  if (shown !== undefined) return { ...described, description: `${spec.help} (${shown})` };
  // Typed as a file would write it, so an editor's completion inserts a valid value.
  const { type } = spec.kind;
  const value = type === "boolean"
    ? spec.default === "true"
    : type === "integer" || type === "port"
    ? Number(spec.default)
    : spec.default;
  return { ...described, default: value };
}

function optionSchemas(scope: Scope): Record<string, Schema> {
  return Object.fromEntries(fileOptions(scope).map((n) => [n, optionSchema(n)]));
}

/** The config file's schema. Pure; the same value every call. */
export function generateSchema(): Schema {
  const poolOptions = optionSchemas("pool");
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://deno-lb.local/schema/lb.schema.json",
    title: "lb configuration file",
    description: "Generated from lib/config/options.ts by scripts/gen_docs.ts; do not edit. " +
      "Keys are lb's flag names without the dashes; values are what the flag would take " +
      '(durations such as "5s", numbers, true/false for switches). Flags and environment ' +
      "variables override the file. Pool options at the top level configure the pool " +
      '"default" when there is no "pools", and are inherited by every pool when there is.',
    type: "object",
    additionalProperties: false,
    properties: {
      $schema: { type: "string" },
      ...optionSchemas("global"),
      ...poolOptions,
      pools: {
        type: "object",
        description: "Named pools (name \u2192 its options); each needs backends or discover.",
        minProperties: 1,
        propertyNames: NAME,
        additionalProperties: {
          type: "object",
          additionalProperties: false,
          properties: poolOptions,
        },
      },
      routes: {
        type: "array",
        minItems: 1,
        description: "Tried in order; the first whose match passes handles the request.",
        items: ROUTE,
      },
      policies: policiesSchema(),
    },
  };
}

/** The schema file's text, as `scripts/gen_docs.ts` writes it. */
export function schemaText(): string {
  return `${JSON.stringify(generateSchema(), null, 2)}\n`;
}
