/**
 * `policies.headers`: set, add and remove fields of the upstream request
 * and of the client's response. Values may name `${client_ip}`,
 * `${request_id}`, `${route}`, `${pool}` and `${backend}`. Hop-by-hop and
 * framing fields are the proxy's to manage (RFC 9110 §7.6.1, RFC 9112 §6),
 * so a rule naming one is a configuration error, as is a field name or
 * value that could not go on the wire.
 *
 * @module
 */

import type { Problems } from "../cli.ts";
import type { Schema } from "../json_schema.ts";
import { asList, type PolicyParser, STRING_OR_LIST } from "./parser.ts";
import type { HeaderEdits, HeaderRulesConfig } from "./types.ts";

/** The variables a value may use. */
export const HEADER_VARIABLES = ["client_ip", "request_id", "route", "pool", "backend"] as const;

/** Fields no rule may touch: connection management and message framing. */
export const PROTECTED_FIELDS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "host",
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
// Field values: visible ASCII, space and tab, latin-1 obs-text; no CR, LF or NUL (RFC 9110 §5.5).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const VARIABLE = /\$\{([^}]*)\}/g;

const FIELD_VALUES: Schema = {
  type: "object",
  additionalProperties: { type: "string" },
  description:
    "field \u2192 value; values may use ${client_ip}, ${request_id}, ${route}, ${pool}, ${backend}",
};

const EDITS: Schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    set: {
      ...FIELD_VALUES,
      description: `replace every field of the name: ${FIELD_VALUES.description}`,
    },
    add: { ...FIELD_VALUES, description: `append a field: ${FIELD_VALUES.description}` },
    remove: { ...STRING_OR_LIST, description: "field names removed" },
  },
};

/** Parses `policies.headers`. */
export const headersPolicy: PolicyParser<HeaderRulesConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    description: "header rules for the upstream request and the client's response",
    properties: {
      request: { ...EDITS, description: "edits to the request sent upstream" },
      response: { ...EDITS, description: "edits to the response sent to the client" },
    },
  },
  describe: (c) => {
    const show = (e: HeaderEdits) => ({
      set: Object.fromEntries(e.set),
      add: Object.fromEntries(e.add),
      remove: e.remove,
    });
    return {
      ...(c.request && { request: show(c.request) }),
      ...(c.response && { response: show(c.response) }),
    };
  },
  parse(p, value, where) {
    const raw = value as { request?: RawEdits; response?: RawEdits };
    const out: { request?: HeaderEdits; response?: HeaderEdits } = {};
    if (raw.request) {
      out.request = edits(p, raw.request, `${where.at}.request`);
      // The backend is chosen after the request rules ran, and may change on a retry.
      for (const [name, text] of [...out.request.set, ...out.request.add]) {
        if (text.includes("${backend}")) {
          p.at(`${where.at}.request.${name}`, "${backend} is known only to response rules");
        }
      }
    }
    if (raw.response) out.response = edits(p, raw.response, `${where.at}.response`);
    return out;
  },
};

interface RawEdits {
  readonly set?: Record<string, string>;
  readonly add?: Record<string, string>;
  readonly remove?: string | string[];
}

function edits(p: Problems, raw: RawEdits, at: string): HeaderEdits {
  const pairs = (values: Record<string, string> | undefined, key: string) =>
    Object.entries(values ?? {}).map(([name, text]) => {
      const lower = name.toLowerCase();
      checkName(p, lower, `${at}.${key}.${name}`);
      checkValue(p, text, `${at}.${key}.${name}`);
      return [lower, text] as const;
    });
  const remove = asList(raw.remove).map((name) => {
    const lower = name.toLowerCase();
    checkName(p, lower, `${at}.remove`);
    return lower;
  });
  return { set: pairs(raw.set, "set"), add: pairs(raw.add, "add"), remove };
}

function checkName(p: Problems, name: string, at: string): void {
  if (!TOKEN.test(name)) p.at(at, `"${name}" is not a field name (RFC 9110 §5.1 token)`);
  else if (PROTECTED_FIELDS.has(name)) {
    p.at(at, `${name} is a hop-by-hop or framing field; the proxy manages it`);
  }
}

function checkValue(p: Problems, text: string, at: string): void {
  if (!VALUE.test(text)) p.at(at, "a field value can't hold CR, LF, NUL or other controls");
  for (const [, name] of text.matchAll(VARIABLE)) {
    if (!(HEADER_VARIABLES as readonly string[]).includes(name)) {
      p.at(
        at,
        `unknown variable \${${name}} (expected ${
          HEADER_VARIABLES.map((v) => `\${${v}}`).join(", ")
        })`,
      );
    }
  }
}
