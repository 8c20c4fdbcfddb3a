/**
 * `policies.tracing` (draft: the tracing work refines this module).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { TracingConfig } from "./types.ts";

/** Parses `policies.tracing`. */
export const tracingPolicy: PolicyParser<TracingConfig> = {
  schema: {
    oneOf: [{ type: "boolean", enum: [true] }, {
      type: "object",
      additionalProperties: false,
      properties: { sample: { type: "number", minimum: 0, maximum: 1 } },
    }],
    description: "W3C trace context and OTLP spans (needs --otlp-endpoint)",
  },
  describe: (c) => ({ sample: c.sample }),
  parse(_p, value) {
    return { sample: value === true ? 1 : (value as { sample?: number }).sample ?? 1 };
  },
};
