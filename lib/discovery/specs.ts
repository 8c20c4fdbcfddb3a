/**
 * Pure helpers of DNS discovery: turning resolved addresses into backend
 * specs, choosing SRV records, and comparing discovered sets. No I/O, so
 * they are tested without a DNS server.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";

/** One SRV record as `node:dns` returns it (RFC 2782 fields; `name` is the target host). */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/**
 * The spec of a discovered address. The origin is built the way `--backends`
 * entries are (`new URL(...).host`), so a discovered backend and a configured
 * one with the same address have the same id: IPv6 is bracketed and
 * compressed, and port 80 is left out, as URLs do.
 */
export function addressSpec(address: string, port: number, weight = 1): BackendSpec {
  const bare = address.startsWith("[") ? address.slice(1, -1) : address;
  const host = bare.includes(":") ? `[${bare}]` : bare;
  const url = new URL(`http://${host}:${port}`);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { origin: `http://${url.host}`, hostname, port, weight };
}

/**
 * The SRV records a client should use: only the group with the lowest
 * priority number, as RFC 2782 clients do (higher numbers are fallbacks,
 * used here only once the lower group is gone from DNS). A target of "."
 * means "no service at this name" (RFC 2782) and is dropped.
 */
export function lowestPriority(records: readonly SrvRecord[]): SrvRecord[] {
  const usable = records.filter((r) => r.name !== "." && r.name !== "");
  if (usable.length === 0) return [];
  const lowest = Math.min(...usable.map((r) => r.priority));
  return usable.filter((r) => r.priority === lowest);
}

/**
 * The weight of a backend behind an SRV record. RFC 2782 gives weight 0 "a
 * very small chance of being selected"; the balancer's weights start at 1,
 * so 0 becomes 1.
 */
export function srvWeight(record: SrvRecord): number {
  return Math.max(1, record.weight);
}

/**
 * One spec per origin, sorted by origin. An address reached twice (two SRV
 * records with the same target and port, or a `dns:` and an `srv:` target
 * that overlap) keeps its largest weight.
 */
export function mergeSpecs(specs: Iterable<BackendSpec>): BackendSpec[] {
  const byOrigin = new Map<string, BackendSpec>();
  for (const spec of specs) {
    const seen = byOrigin.get(spec.origin);
    if (!seen || spec.weight > seen.weight) byOrigin.set(spec.origin, spec);
  }
  return [...byOrigin.values()].sort((a, b) => compare(a.origin, b.origin));
}

/** Whether two discovered sets have the same origins with the same weights, in any order. */
export function sameSpecs(a: readonly BackendSpec[], b: readonly BackendSpec[]): boolean {
  return setKey(a) === setKey(b);
}

/** What changed between two discovered sets, for one log line. */
export interface SpecDiff {
  readonly added: string[];
  readonly removed: string[];
  /** Origins in both whose weight changed. */
  readonly reweighted: string[];
}

/** The origins added, removed and reweighted going from `before` to `after`, each sorted. */
export function diffSpecs(before: readonly BackendSpec[], after: readonly BackendSpec[]): SpecDiff {
  const old = new Map(before.map((s) => [s.origin, s.weight]));
  const now = new Map(after.map((s) => [s.origin, s.weight]));
  const added = [...now.keys()].filter((o) => !old.has(o));
  const removed = [...old.keys()].filter((o) => !now.has(o));
  const reweighted = [...now].filter(([o, w]) => old.has(o) && old.get(o) !== w).map(([o]) => o);
  return {
    added: added.sort(compare),
    removed: removed.sort(compare),
    reweighted: reweighted.sort(compare),
  };
}

function setKey(specs: readonly BackendSpec[]): string {
  return specs.map((s) => `${s.origin}=${s.weight}`).sort(compare).join(",");
}

/** Plain code-unit order, independent of locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
