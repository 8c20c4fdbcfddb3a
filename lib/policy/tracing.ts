/**
 * DRAFT, replaced by the tracing work: `policies.tracing`.
 *
 * @module
 */

import type { TracingConfig } from "../config/policies/types.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** The tracing policy. */
export function createTracing(_config: TracingConfig, _deps: PolicyDeps, _route: string): Policy {
  return { kind: "tracing" };
}
