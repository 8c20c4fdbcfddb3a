/**
 * `policies.forward-auth` (draft: the auth work refines this module).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { ForwardAuthConfig } from "./types.ts";

/** Parses `policies.forward-auth`. */
export const forwardAuthPolicy: PolicyParser<ForwardAuthConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["url"],
    description:
      "asks an auth service first: 2xx lets the request through, anything else is the answer",
    properties: {
      url: { type: "string", description: "the auth service's URL" },
      "copy-headers": {
        type: "array",
        items: { type: "string" },
        description: "fields of its 2xx answer copied upstream",
      },
      timeout: { type: "string", description: "the auth service must answer within this (5s)" },
      "on-error": {
        type: "integer",
        enum: [401, 403, 503],
        description: "the status when it fails or times out (503)",
      },
    },
  },
  describe: (c) => ({ url: c.url, copyHeaders: c.copyHeaders, timeoutMs: c.timeoutMs }),
  parse(_p, value) {
    const raw = value as { url: string; "copy-headers"?: string[]; "on-error"?: 401 | 403 | 503 };
    return {
      url: raw.url,
      copyHeaders: (raw["copy-headers"] ?? []).map((h) => h.toLowerCase()),
      timeoutMs: 5000,
      onErrorStatus: raw["on-error"] ?? 503,
    };
  },
};
