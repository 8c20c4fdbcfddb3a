/**
 * Backend lists: `http://host:port`, `https://host:port` or bare
 * `host:port` (plain HTTP), each optionally `=weight`. Paths and
 * credentials are refused rather than silently ignored, so a typo can't send
 * traffic somewhere unexpected; origins are canonical (scheme and host
 * lower case, the scheme's default port dropped), so they can be compared.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import { type Fail, splitList } from "./kinds.ts";
import type { Schema } from "./json_schema.ts";
import type { BackendSpec } from "./types.ts";

const EXAMPLE = "http://127.0.0.1:8081,http://127.0.0.1:8082";

/**
 * Reads a comma-separated backend list, reporting each bad or repeated entry
 * through `fail`; spaces and empty items are ignored. An empty list is not a
 * problem here (discovery may supply the backends).
 */
export function readBackends(raw: string, fail: Fail): BackendSpec[] {
  const seen = new Set<string>();
  const specs: BackendSpec[] = [];
  for (const item of splitList(raw)) {
    const spec = parseBackend(item);
    if (typeof spec === "string") {
      fail(`"${item}" ${spec}`);
    } else if (seen.has(spec.origin)) {
      fail(`"${item}" is listed twice`);
    } else {
      seen.add(spec.origin);
      specs.push(spec);
    }
  }
  return specs;
}

/**
 * Backends in a config file: the flag's text, or a list of `"url[=weight]"`
 * strings and `{ url, weight?, metadata? }` objects (metadata is shown in
 * `/status`).
 */
export const BACKENDS_SCHEMA: Schema = {
  oneOf: [
    { type: "string" },
    {
      type: "array",
      items: {
        oneOf: [
          { type: "string" },
          {
            type: "object",
            additionalProperties: false,
            required: ["url"],
            properties: {
              url: { type: "string" },
              weight: { type: "integer", minimum: 1, maximum: 1000 },
              metadata: { type: "object", additionalProperties: { type: "string" } },
            },
          },
        ],
      },
    },
  ],
};

/** The message for a list with no backends at all. */
export const NO_BACKENDS = `no backends given (expected e.g. ${EXAMPLE})`;

/**
 * Parses `--backends` (and the admin API's backend lists), reporting under
 * `--backends`. Unless `allowEmpty`, a list with no entries is a problem.
 */
export function parseBackends(p: Problems, raw: string, allowEmpty = false): BackendSpec[] {
  if (!allowEmpty && splitList(raw).length === 0) {
    p.add("backends", NO_BACKENDS);
    return [];
  }
  return readBackends(raw, (m) => p.add("backends", m));
}

/** Writes backends the way {@link readBackends} reads them (weight 1 left out). */
export function showBackends(specs: readonly BackendSpec[]): string {
  return specs.map((b) => (b.weight === 1 ? b.origin : `${b.origin}=${b.weight}`)).join(",");
}

/**
 * The origin a backend URL normalises to (scheme kept, default port
 * dropped), for matching config-file metadata to parsed backends.
 */
export function normalizeOrigin(url: string): string {
  try {
    const u = new URL(withScheme(url));
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

function withScheme(item: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(item) ? item : `http://${item}`;
}

/** One entry as a spec, or what is wrong with it (to follow the quoted entry). */
function parseBackend(entry: string): BackendSpec | string {
  // `URL=weight`: `=` can't appear in an http origin, so the split is unambiguous.
  const eq = entry.lastIndexOf("=");
  const item = eq === -1 ? entry : entry.slice(0, eq);
  let weight = 1;
  if (eq !== -1) {
    const w = entry.slice(eq + 1);
    if (!/^\d{1,4}$/.test(w) || Number(w) < 1 || Number(w) > 1000) {
      return `has weight "${w}" (expected a whole number from 1 to 1000)`;
    }
    weight = Number(w);
  }
  let url: URL;
  try {
    url = new URL(withScheme(item));
  } catch {
    return "is not an http URL (expected http://host:port or https://host:port)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `is not an http URL (scheme ${url.protocol} is not supported; expected http or https)`;
  }
  const tls = url.protocol === "https:";
  if (url.username || url.password) return "must not contain credentials";
  if (url.pathname !== "/" || url.search || url.hash) {
    return "must not have a path, query or fragment (expected http://host:port)";
  }
  if (url.hostname === "") return "has no host";
  // URL drops a scheme's default port from `url.port`, so the origin stays canonical.
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  if (port === 0) return "has port 0 (expected 1-65535)";
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { origin: `${url.protocol}//${url.host}`, hostname, port, weight, tls };
}
