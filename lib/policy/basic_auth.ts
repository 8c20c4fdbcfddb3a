/**
 * DRAFT, replaced by the basic-auth work: `policies.basic-auth`.
 *
 * @module
 */

import type { BasicAuthConfig } from "../config/policies/types.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** The basic-auth policy. */
export function createBasicAuth(
  _config: BasicAuthConfig,
  _deps: PolicyDeps,
  _route: string,
): Policy {
  return { kind: "basic-auth" };
}
