/**
 * DRAFT, replaced by the compression work: `policies.compression`.
 *
 * @module
 */

import type { CompressionConfig } from "../config/policies/types.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** The compression policy. */
export function createCompression(
  _config: CompressionConfig,
  _deps: PolicyDeps,
  _route: string,
): Policy {
  return { kind: "compression" };
}
