/**
 * DRAFT, replaced by the rate-limit work: `policies.rate-limit`.
 *
 * @module
 */

import type { RateLimitConfig } from "../config/policies/types.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** The rate-limit policy. */
export function createRateLimit(
  _config: RateLimitConfig,
  _deps: PolicyDeps,
  _route: string,
): Policy {
  return { kind: "rate-limit" };
}
