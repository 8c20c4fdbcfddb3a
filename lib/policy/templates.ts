/**
 * Header-rule values with variables, compiled once: `"${route}@${pool}"`
 * becomes a list of literal and variable parts joined per request.
 *
 * @module
 */

import type { PolicyExchange } from "./types.ts";

/** A compiled value: literal parts and variable names, alternating. */
export type Template = (x: PolicyExchange) => string;

const VARIABLE = /\$\{([a-z_]+)\}/g;

const VARIABLES: Readonly<Record<string, (x: PolicyExchange) => string>> = {
  client_ip: (x) => x.clientIp,
  request_id: (x) => x.requestId ?? "",
  route: (x) => x.route,
  pool: (x) => x.pool,
  backend: (x) => x.backend ?? "",
};

/** Compiles `text`; names the config already checked. */
export function compileTemplate(text: string): Template {
  const parts: (string | ((x: PolicyExchange) => string))[] = [];
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(VARIABLES[m[1]] ?? (() => m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.length === 0) return () => "";
  if (parts.length === 1 && typeof parts[0] === "string") {
    const literal = parts[0];
    return () => literal;
  }
  return (x) => {
    let out = "";
    for (const part of parts) out += typeof part === "string" ? part : part(x);
    return out;
  };
}
