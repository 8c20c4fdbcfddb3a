/**
 * `policies.rate-limit`: token buckets (draft: the rate-limit work refines
 * this module).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { RateLimitConfig } from "./types.ts";

/** Parses `policies.rate-limit`. */
export const rateLimitPolicy: PolicyParser<RateLimitConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["limit", "period"],
    description: "token buckets per key; over the limit, 429 with Retry-After and RateLimit fields",
    properties: {
      name: {
        type: "string",
        description: "the policy's name in RateLimit-Policy (the route's name)",
      },
      key: {
        type: "array",
        items: { type: "string" },
        description: "ip, route, header:<name>, cookie:<name> ([ip])",
      },
      limit: { type: "integer", minimum: 1, description: "requests per period" },
      period: { type: "string", description: "the refill period (1s, 1m)" },
      burst: { type: "integer", minimum: 1, description: "requests allowed at once (limit)" },
      "max-keys": {
        type: "integer",
        minimum: 1,
        description: "keys kept, least recently used first out (100000)",
      },
    },
  },
  describe: (c) => ({ name: c.name, limit: c.limit, periodMs: c.periodMs, burst: c.burst }),
  parse(_p, value, where) {
    const raw = value as { name?: string; limit: number; burst?: number };
    return {
      name: raw.name ?? where.route,
      key: [{ kind: "ip" }],
      limit: raw.limit,
      periodMs: 1000,
      burst: raw.burst ?? raw.limit,
      maxKeys: 100_000,
    };
  },
};
