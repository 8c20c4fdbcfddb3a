/**
 * `policies.basic-auth` (draft: the auth work refines this module).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { BasicAuthConfig } from "./types.ts";

/** Parses `policies.basic-auth`. */
export const basicAuthPolicy: PolicyParser<BasicAuthConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    description: "HTTP Basic authentication against bcrypt hashes",
    properties: {
      realm: { type: "string", description: "the realm shown to the user (restricted)" },
      users: {
        type: "object",
        additionalProperties: { type: "string" },
        description: "user → bcrypt hash",
      },
      htpasswd: { type: "string", description: "an htpasswd file of user:bcrypt-hash lines" },
      strip: {
        type: "boolean",
        description: "remove Authorization before the request goes upstream (true)",
      },
    },
  },
  describe: (c) => ({ realm: c.realm, users: c.users.size, strip: c.strip }),
  parse(_p, value) {
    const raw = value as { realm?: string; users?: Record<string, string>; strip?: boolean };
    return {
      realm: raw.realm ?? "restricted",
      users: new Map(Object.entries(raw.users ?? {})),
      strip: raw.strip ?? true,
    };
  },
};
