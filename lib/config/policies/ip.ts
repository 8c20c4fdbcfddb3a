/**
 * `policies.ip`: `allow` and `deny` lists of CIDRs (or single addresses).
 *
 * @module
 */

import { type Cidr, parseCidr } from "../../core/cidr.ts";
import type { Problems } from "../cli.ts";
import { asList, type PolicyParser, STRING_OR_LIST } from "./parser.ts";
import type { IpRulesConfig } from "./types.ts";

/** Parses `policies.ip`. */
export const ipPolicy: PolicyParser<IpRulesConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    description:
      "client addresses (after --trust-proxy and PROXY protocol) allowed or denied (403)",
    properties: {
      allow: { ...STRING_OR_LIST, description: "CIDRs or addresses; when given, only these pass" },
      deny: { ...STRING_OR_LIST, description: "CIDRs or addresses refused, even when allowed" },
    },
  },
  describe: (c) => ({
    ...(c.allow && { allow: c.allow.map((r) => r.text) }),
    deny: c.deny.map((r) => r.text),
  }),
  parse(p, value, where) {
    const raw = value as { allow?: unknown; deny?: unknown };
    const allow = raw.allow === undefined ? undefined : cidrs(p, raw.allow, `${where.at}.allow`);
    const deny = cidrs(p, raw.deny, `${where.at}.deny`);
    return allow === undefined ? { deny } : { allow, deny };
  },
};

function cidrs(p: Problems, value: unknown, at: string): Cidr[] {
  const out: Cidr[] = [];
  for (const text of asList(value)) {
    const cidr = parseCidr(text.trim());
    if (cidr) out.push(cidr);
    else {p.at(
        at,
        `"${text}" is not an IP address or CIDR (expected 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)`,
      );}
  }
  return out;
}
