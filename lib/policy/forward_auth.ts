/**
 * DRAFT, replaced by the forward-auth work: `policies.forward-auth`.
 *
 * @module
 */

import type { ForwardAuthConfig } from "../config/policies/types.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** The forward-auth policy. */
export function createForwardAuth(
  _config: ForwardAuthConfig,
  _deps: PolicyDeps,
  _route: string,
): Policy {
  return { kind: "forward-auth" };
}
