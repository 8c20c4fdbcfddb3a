/**
 * Header rules: remove, then set (replacing every field of the name), then
 * add, on the upstream request after the proxy's own rules, and on the
 * client's response. The config refused rules on hop-by-hop and framing
 * fields, so a rule can't desynchronise a connection.
 *
 * @module
 */

import type { HeaderEdits, HeaderRulesConfig } from "../config/policies/types.ts";
import type { HeaderPairs } from "../core/transport.ts";
import { compileTemplate, type Template } from "./templates.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "./types.ts";

interface CompiledEdits {
  readonly drop: ReadonlySet<string>;
  readonly set: readonly (readonly [string, Template])[];
  readonly add: readonly (readonly [string, Template])[];
}

function compile(edits: HeaderEdits): CompiledEdits {
  return {
    drop: new Set([...edits.remove, ...edits.set.map(([name]) => name)]),
    set: edits.set.map(([name, text]) => [name, compileTemplate(text)]),
    add: edits.add.map(([name, text]) => [name, compileTemplate(text)]),
  };
}

/** `headers` with `edits` applied, as a new list. Pure but for the variables' values. */
export function applyEdits(
  headers: HeaderPairs,
  edits: CompiledEdits,
  x: PolicyExchange,
): HeaderPairs {
  return editInPlace(headers.slice(), edits, x);
}

/** `headers` itself with `edits` applied: for the upstream list, which is the proxy's own. */
function editInPlace(headers: HeaderPairs, edits: CompiledEdits, x: PolicyExchange): HeaderPairs {
  if (edits.drop.size > 0) {
    let kept = 0;
    for (const pair of headers) if (!edits.drop.has(pair[0])) headers[kept++] = pair;
    headers.length = kept;
  }
  for (const [name, value] of edits.set) headers.push([name, value(x)]);
  for (const [name, value] of edits.add) headers.push([name, value(x)]);
  return headers;
}

/** What a set of edits does, counted: `set 2, added 1, removed 1 fields`. */
function described(edits: CompiledEdits): string {
  const removed = edits.drop.size - edits.set.length;
  return `set ${edits.set.length}, added ${edits.add.length}, removed ${removed} fields`;
}

/** The header rules policy. */
export function createHeaderRules(
  config: HeaderRulesConfig,
  deps?: PolicyDeps,
  route = "",
): Policy {
  const request = config.request && compile(config.request);
  const response = config.response && compile(config.response);
  const requests = deps?.metrics.headerRules.labels(route, "request");
  const responses = deps?.metrics.headerRules.labels(route, "response");
  const policy: { -readonly [K in keyof Policy]: Policy[K] } = { kind: "headers" };
  if (request) {
    policy.request = (x) => {
      editInPlace(x.upstreamHeaders, request, x);
      requests?.inc();
      x.explain?.policy("headers", `request: ${described(request)}`);
      return undefined;
    };
  }
  if (response) {
    policy.response = (reply, x) => {
      responses?.inc();
      x.explain?.policy("headers", `response: ${described(response)}`);
      return { ...reply, headers: applyEdits(reply.headers, response, x) };
    };
  }
  return policy;
}
