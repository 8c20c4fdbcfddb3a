/**
 * Passive outlier detection applied to a pool: one live-traffic result
 * updates the backend's outlier state (`resilience/outlier.ts` holds the
 * rule) and, past the threshold, ejects it through the pool, which owns the
 * timer that lets it back.
 *
 * @module
 */

import type { OutlierConfig } from "../config/types.ts";
import { recordResult } from "../resilience/outlier.ts";
import type { Backend } from "./backend.ts";
import type { Pool } from "./pool.ts";

/** Records one result of `backend` in `pool`, ejecting it when `config`'s threshold is crossed. */
export function recordOutcome(
  pool: Pool,
  backend: Backend,
  ok: boolean,
  config: OutlierConfig,
): void {
  if (config.consecutiveErrors === 0) return;
  // The common case, a success, only resets the count: no clock read.
  if (ok) {
    backend.outlier.consecutive = 0;
    return;
  }
  const until = recordResult(
    backend.outlier,
    ok,
    pool.now(),
    config,
    pool.ejectedCount,
    pool.backends.length,
  );
  if (until !== undefined) {
    pool.eject(backend, until, `${config.consecutiveErrors} consecutive errors`);
  }
}
