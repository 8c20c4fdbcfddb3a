/**
 * IP allow and deny lists: a client address in `deny`, or outside `allow`
 * when one is given, gets 403. The address is the one the front settled on
 * (after the PROXY protocol), and behind a trusted proxy the forwarded
 * client's (`--trust-proxy`), so a proxy's own address does not stand in for
 * everyone behind it.
 *
 * @module
 */

import { ipInRanges } from "../core/cidr.ts";
import type { IpRulesConfig } from "../config/policies/types.ts";
import { textReply } from "./replies.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** Whether `ip` may pass `rules`. Pure. */
export function ipAllowed(rules: IpRulesConfig, ip: string): boolean {
  if (rules.deny.length > 0 && ipInRanges(ip, rules.deny)) return false;
  return rules.allow === undefined || ipInRanges(ip, rules.allow);
}

/** Which rule refused `ip`: the deny block it is in, or the allow list it is outside. */
function ruleOf(rules: IpRulesConfig, ip: string): string {
  const block = rules.deny.find((r) => ipInRanges(ip, [r]));
  return block ? `deny ${block.text}` : "outside allow";
}

/** The IP rules policy. */
export function createIpRules(config: IpRulesConfig, deps: PolicyDeps, route: string): Policy {
  const denied = deps.metrics.policyDenied.labels(route, "ip");
  return {
    kind: "ip",
    request(x) {
      if (ipAllowed(config, x.clientIp)) {
        x.explain?.policy("ip", `allowed ${x.clientIp}`);
        return undefined;
      }
      denied.inc();
      if (x.explain) x.explain.policy("ip", `denied ${x.clientIp} (${ruleOf(config, x.clientIp)})`);
      return textReply(403, "forbidden\n");
    },
  };
}
