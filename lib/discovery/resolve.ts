/**
 * Resolving discovery targets to backend specs, once. `node:dns` is used
 * rather than `Deno.resolveDns` because only it returns TTLs (DENO-NOTES),
 * and the TTL decides when to ask again.
 *
 * A name that does not exist, or has no records of a type, contributes
 * nothing; any other failure (timeout, refused connection) rejects the whole
 * resolution, so the caller keeps its last good set rather than draining
 * every backend during a DNS outage. Caveat, measured on Deno 2.9.6: its
 * `node:dns` (and `Deno.resolveDns`) report SERVFAIL and REFUSED answers as
 * `ENOTFOUND`, exactly like NXDOMAIN, so those outages look like "no
 * records"; {@link DnsDiscovery} guards against the worst case, an empty set.
 *
 * @module
 */

import { Resolver } from "node:dns/promises";
import type { BackendSpec } from "../core/backend_spec.ts";
import type { DiscoverTarget, DiscoveryConfig } from "../config/types.ts";
import { addressSpec, lowestPriority, mergeSpecs, type SrvRecord, srvWeight } from "./specs.ts";

/** An A or AAAA record with its remaining TTL in seconds, as `resolve4(name, { ttl: true })` gives it. */
export interface AddressRecord {
  readonly address: string;
  readonly ttl: number;
}

/**
 * The part of `node:dns/promises`' `Resolver` that discovery uses; tests may
 * pass their own. SRV records carry no TTL through this API.
 */
export interface DnsResolver {
  resolve4(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  resolve6(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** Abandons the queries in flight; they reject with `ECANCELLED`. */
  cancel?(): void;
}

/** The DNS server to ask, as `--dns-server` gives it (IPv6 without brackets). */
export type DnsServer = NonNullable<DiscoveryConfig["dnsServer"]>;

/** Options of {@link createResolver}. */
export interface ResolverOptions {
  /** Time one query may take; 2 s by default. */
  readonly timeoutMs?: number;
}

/**
 * A `node:dns` resolver asking `server`, or the system's resolvers when
 * there is none. One try per query: the next round comes soon anyway.
 * Asking a given server needs `--allow-sys=networkInterfaces` on top of
 * `--allow-net`; without it this throws, naming the flag.
 */
export function createResolver(server?: DnsServer, options: ResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: 1 });
  if (!server) return resolver;
  try {
    resolver.setServers([serverAddress(server)]);
  } catch (err) {
    // Deno 2.9.6's setServers() reads the system's servers first, which needs this permission.
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    throw new Error(
      `--dns-server ${serverAddress(server)} needs --allow-sys=networkInterfaces ` +
        "(Deno's node:dns setServers() reads the system's DNS servers)",
      { cause: err },
    );
  }
  return resolver;
}

/** `host:port` for `setServers`, IPv6 bracketed (`[::1]:53`). */
export function serverAddress(server: DnsServer): string {
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  return `${host}:${server.port}`;
}

/** A query that failed for a reason other than "no such name" or "no such records". */
export class DnsLookupError extends Error {
  /** The error code from `node:dns`, e.g. `ETIMEOUT`; `UNKNOWN` when there was none. */
  readonly code: string;

  constructor(type: string, name: string, cause: unknown) {
    const code = errorCode(cause) ?? "UNKNOWN";
    super(`${type} ${name}: ${code}`, { cause });
    this.name = "DnsLookupError";
    this.code = code;
  }
}

/** The result of resolving every target once. */
export interface Resolution {
  /** One spec per origin, sorted by origin. */
  readonly specs: BackendSpec[];
  /** The smallest TTL among the address records, in ms; `Infinity` when no record was found. */
  readonly ttlMs: number;
  /** When that TTL runs out, on the `now` clock. */
  readonly expiresAt: number;
}

/**
 * Resolves every target: `dns` targets to their A and AAAA addresses on the
 * target's port, `srv` targets to the addresses of the lowest-priority SRV
 * group's hosts on the records' ports and weights. Rejects with a
 * {@link DnsLookupError} if any query failed, after all queries settled.
 */
export async function resolveTargets(
  targets: readonly DiscoverTarget[],
  resolver: DnsResolver,
  now: () => number = Date.now,
): Promise<Resolution> {
  const parts = await settleAll(targets.map((t) => resolveTarget(t, resolver)));
  const specs = mergeSpecs(parts.flatMap((p) => p.specs));
  const ttls = parts.flatMap((p) => p.ttls);
  const ttlMs = ttls.length === 0 ? Infinity : Math.min(...ttls) * 1000;
  return { specs, ttlMs, expiresAt: now() + ttlMs };
}

const WITH_TTL = { ttl: true } as const;

interface Part {
  readonly specs: BackendSpec[];
  /** TTLs (s) of the address records behind the specs. */
  readonly ttls: number[];
}

async function resolveTarget(target: DiscoverTarget, resolver: DnsResolver): Promise<Part> {
  if (target.kind === "dns") {
    const records = await addressesOf(resolver, target.name);
    return {
      specs: records.map((r) => addressSpec(r.address, target.port)),
      ttls: records.map((r) => r.ttl),
    };
  }
  const all = await lookup("SRV", target.name, () => resolver.resolveSrv(target.name));
  const srv = lowestPriority(all);
  const parts = await settleAll(srv.map(async (record): Promise<Part> => {
    const records = await addressesOf(resolver, record.name);
    return {
      specs: records.map((r) => addressSpec(r.address, record.port, srvWeight(record))),
      ttls: records.map((r) => r.ttl),
    };
  }));
  return { specs: parts.flatMap((p) => p.specs), ttls: parts.flatMap((p) => p.ttls) };
}

async function addressesOf(resolver: DnsResolver, name: string): Promise<AddressRecord[]> {
  const [v4, v6] = await settleAll([
    lookup("A", name, () => resolver.resolve4(name, WITH_TTL)),
    lookup("AAAA", name, () => resolver.resolve6(name, WITH_TTL)),
  ]);
  return [...v4, ...v6];
}

/** Runs one query; "no such name" and "no such records" give no records. */
async function lookup<T>(type: string, name: string, run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (err) {
    if (isNoRecords(err)) return [];
    throw new DnsLookupError(type, name, err);
  }
}

/**
 * Whether a `node:dns` error means the name or its records don't exist
 * (NXDOMAIN is `ENOTFOUND`, an empty answer `ENODATA`), as opposed to the
 * resolver failing.
 */
export function isNoRecords(err: unknown): boolean {
  const code = errorCode(err);
  return code === "ENOTFOUND" || code === "ENODATA";
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * `Promise.all` that waits for every promise before rejecting with the first
 * failure, so nothing is still running when the caller moves on (or stops).
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
