/**
 * `policies.compression` (draft: the compression work refines this module).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { CompressionConfig } from "./types.ts";

/** Parses `policies.compression`. */
export const compressionPolicy: PolicyParser<CompressionConfig> = {
  schema: {
    oneOf: [{ type: "boolean", enum: [true] }, {
      type: "object",
      additionalProperties: false,
      properties: {
        encodings: { type: "array", items: { type: "string", enum: ["br", "zstd", "gzip"] } },
        types: { type: "array", items: { type: "string" } },
        "min-size": { type: "integer", minimum: 0 },
      },
    }],
    description: "compresses responses the client accepts compressed",
  },
  describe: (c) => ({ encodings: c.encodings, types: c.types, minBytes: c.minBytes }),
  parse() {
    return { encodings: ["br", "gzip"], types: ["text/*", "application/json"], minBytes: 1024 };
  },
};
