/**
 * `policies.retry`: `on-status`, the answers that send an idempotent
 * request to another backend (`[502, 503, 504]` is the usual choice; none
 * by default).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { RetryOnConfig } from "./types.ts";

/** Parses `policies.retry`. */
export const retryPolicy: PolicyParser<RetryOnConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["on-status"],
    description:
      "retries on answers, for idempotent requests, within the pool's retries and retry budget",
    properties: {
      "on-status": {
        type: "array",
        minItems: 1,
        items: { type: "integer", minimum: 500, maximum: 599 },
        description: "5xx statuses retried on another backend, e.g. [502, 503, 504]",
      },
    },
  },
  describe: (c) => ({ onStatus: [...c.onStatus] }),
  parse(_p, value) {
    return { onStatus: new Set((value as { "on-status": number[] })["on-status"]) };
  },
};
