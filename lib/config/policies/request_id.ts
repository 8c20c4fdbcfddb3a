/**
 * `policies.request-id`: `true`, or an object choosing the field, whether a
 * trusted peer's ID is kept, and whether it is echoed to the client.
 *
 * @module
 */

import { PROTECTED_FIELDS } from "./headers.ts";
import type { PolicyParser } from "./parser.ts";
import type { RequestIdConfig } from "./types.ts";

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Parses `policies.request-id`. */
export const requestIdPolicy: PolicyParser<RequestIdConfig> = {
  schema: {
    oneOf: [
      { type: "boolean", enum: [true] },
      {
        type: "object",
        additionalProperties: false,
        properties: {
          header: { type: "string", description: "the field (x-request-id)" },
          "trust-incoming": {
            type: "boolean",
            description:
              "keep an ID sent by a peer in --trust-proxy (true); others always get a new one",
          },
          echo: { type: "boolean", description: "send it back on the response (true)" },
        },
      },
    ],
    description: "an ID for each request: sent upstream, echoed to the client, in the access log",
  },
  describe: (c) => ({ header: c.header, trustIncoming: c.trustIncoming, echo: c.echo }),
  parse(p, value, where) {
    const raw = value === true
      ? {}
      : value as { header?: string; "trust-incoming"?: boolean; echo?: boolean };
    const header = (raw.header ?? "x-request-id").toLowerCase();
    if (!TOKEN.test(header)) p.at(`${where.at}.header`, `"${raw.header}" is not a field name`);
    else if (PROTECTED_FIELDS.has(header)) {
      p.at(
        `${where.at}.header`,
        `${header} is a hop-by-hop or framing field; the proxy manages it`,
      );
    }
    return { header, trustIncoming: raw["trust-incoming"] ?? true, echo: raw.echo ?? true };
  },
};
