/**
 * The `policies` blocks: the file's top level gives every route's defaults,
 * and a route's own block replaces an entry whole or turns it off with
 * `false`. Each policy's schema and meaning live in its own module here;
 * this one lists them, builds the `policies` schema and merges the levels.
 *
 * @module
 */

import type { Problems } from "../cli.ts";
import type { Schema } from "../json_schema.ts";
import { accessLogPolicy } from "./access_log.ts";
import { basicAuthPolicy } from "./basic_auth.ts";
import { compressionPolicy } from "./compression.ts";
import { forwardAuthPolicy } from "./forward_auth.ts";
import { headersPolicy } from "./headers.ts";
import { ipPolicy } from "./ip.ts";
import type { PolicyParser, PolicyWhere } from "./parser.ts";
import { rateLimitPolicy } from "./rate_limit.ts";
import { requestIdPolicy } from "./request_id.ts";
import { retryPolicy } from "./retry.ts";
import { tracingPolicy } from "./tracing.ts";
import type { PolicySet } from "./types.ts";

export type * from "./types.ts";

/** File key -> the PolicySet field it fills and its parser. */
const POLICIES: {
  readonly [K in keyof PolicySet as string]-?: [K, PolicyParser<NonNullable<PolicySet[K]>>];
} = {
  "request-id": ["requestId", requestIdPolicy],
  tracing: ["tracing", tracingPolicy],
  ip: ["ip", ipPolicy],
  "rate-limit": ["rateLimit", rateLimitPolicy],
  "basic-auth": ["basicAuth", basicAuthPolicy],
  "forward-auth": ["forwardAuth", forwardAuthPolicy],
  headers: ["headers", headersPolicy],
  retry: ["retry", retryPolicy],
  compression: ["compression", compressionPolicy],
  "access-log": ["accessLog", accessLogPolicy],
} as never;

/** The file keys of `policies`, in the order the proxy applies them. */
export const POLICY_KEYS: readonly string[] = Object.keys(POLICIES);

/** The schema of a `policies` block (top level or a route's). */
export function policiesSchema(): Schema {
  const properties: Record<string, Schema> = {};
  for (const [key, [, parser]] of Object.entries(POLICIES)) {
    // access-log is itself a switch; every other policy is turned off with `false`.
    properties[key] = key === "access-log" ? parser.schema : {
      oneOf: [{ type: "boolean", enum: [false], description: "off" }, parser.schema],
      description: parser.schema.description,
    };
  }
  return {
    type: "object",
    additionalProperties: false,
    description:
      "edge policies: at the top level for every route, in a route to replace or (false) turn one off",
    properties,
  };
}

/** The raw `policies` blocks of one route. */
export interface RawPolicies {
  /** The top level's `policies`. */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** The route's own `policies`. */
  readonly route?: Readonly<Record<string, unknown>>;
  /** `policies` as messages name the two. */
  readonly defaultsAt: string;
  readonly routeAt: string;
}

/** The policies in force on route `route`: its own entries over the defaults. */
export function buildPolicySet(
  p: Problems,
  raw: RawPolicies,
  where: Omit<PolicyWhere, "at">,
): PolicySet {
  const out: Record<string, unknown> = {};
  for (const [key, [field, parser]] of Object.entries(POLICIES)) {
    const own = raw.route?.[key];
    const value = own !== undefined ? own : raw.defaults?.[key];
    if (value === undefined || (value === false && key !== "access-log")) continue;
    const at = own !== undefined ? `${raw.routeAt}.${key}` : `${raw.defaultsAt}.${key}`;
    const parsed = parser.parse(p, value, { ...where, at });
    if (parsed !== undefined) out[field] = parsed;
  }
  return out as PolicySet;
}

/** What `/status` shows of a route's policies: file key -> its description. */
export function describePolicies(set: PolicySet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, [field, parser]] of Object.entries(POLICIES)) {
    const config = set[field];
    if (config !== undefined) out[key] = (parser.describe as (c: unknown) => unknown)(config);
  }
  return out;
}
