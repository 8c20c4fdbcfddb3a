/**
 * Readers for the options whose values have their own syntax: hash keys,
 * cookie names, health-check paths and status ranges, the admin token,
 * discovery targets, the DNS server, trusted CIDRs and the client
 * connection cap. Each takes the text and a `fail` callback (see
 * `kinds.ts`), so the same rule serves flags, environment and files.
 *
 * @module
 */

import { type Cidr, parseCidr } from "../core/cidr.ts";
import { type Fail, readInteger } from "./kinds.ts";
import type { DiscoverTarget, DiscoveryConfig, HashKey } from "./types.ts";

/** An HTTP token (RFC 9110 §5.6.2): what header and cookie names are made of. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads `--hash-key`: `client-ip`, `path`, `header:NAME` or `cookie:NAME`. */
export function readHashKey(raw: string, fail: Fail): HashKey {
  if (raw === "client-ip" || raw === "path") return { kind: raw };
  const m = /^(header|cookie):(.+)$/.exec(raw);
  if (m && TOKEN.test(m[2])) {
    // Header names are case-insensitive (RFC 9110 §5.1); cookie names are not.
    return m[1] === "header"
      ? { kind: "header", name: m[2].toLowerCase() }
      : { kind: "cookie", name: m[2] };
  }
  fail(`"${raw}" is not one of client-ip, path, header:NAME, cookie:NAME`);
  return { kind: "client-ip" };
}

/** Writes a hash key the way {@link readHashKey} reads it. */
export function showHashKey(key: HashKey): string {
  return key.kind === "header" || key.kind === "cookie" ? `${key.kind}:${key.name}` : key.kind;
}

/** Reads a cookie name (a token). */
export function readCookieName(raw: string, fail: Fail): string {
  if (!TOKEN.test(raw)) fail(`"${raw}" is not a valid cookie name`);
  return raw;
}

/** Reads `--health-path`: empty (TCP checks) or an absolute path, query allowed. */
export function readHealthPath(raw: string, fail: Fail): string {
  if (raw !== "" && (!raw.startsWith("/") || /\s/.test(raw))) {
    fail(`"${raw}" is not an absolute path such as /readyz`);
  }
  return raw;
}

/** A range of passing statuses. */
export interface StatusRange {
  /** Lowest passing status. */
  readonly min: number;
  /** Highest passing status. */
  readonly max: number;
}

/** Reads `--health-status`: `200` or `200-399`. */
export function readStatusRange(raw: string, fail: Fail): StatusRange {
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(raw);
  if (!m || (m[2] && Number(m[2]) < Number(m[1]))) {
    fail(`"${raw}" is not a status or range such as 200-399`);
    return { min: 200, max: 399 };
  }
  return { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
}

/** Reads `--admin-token`: empty (changes off) or 16+ characters. */
export function readAdminToken(raw: string, fail: Fail): string {
  if (raw !== "" && raw.length < 16) {
    fail("must be at least 16 characters (a guessable token is worse than none)");
  }
  return raw;
}

/** Reads `--dns-server IP[:PORT]` (port 53 by default); undefined when empty. */
export function readDnsServer(raw: string, fail: Fail): DiscoveryConfig["dnsServer"] {
  if (raw === "") return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(raw);
  if (!m || Number(m[2] ?? 53) > 65535) {
    fail(`"${raw}" is not IP:PORT (e.g. 127.0.0.1:5353)`);
    return undefined;
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2] ?? 53) };
}

/** Writes a DNS server the way {@link readDnsServer} reads it. */
export function showDnsServer(server: DiscoveryConfig["dnsServer"]): string {
  if (!server) return "";
  return `${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`;
}

/** A DNS name (letters, digits, `-` and `_` in labels of up to 63), one trailing dot allowed. */
export const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** Reads one `--discover` entry: `dns:NAME[:PORT]` or `srv:NAME`. */
export function readDiscoverTarget(item: string, fail: Fail): DiscoverTarget | undefined {
  const dns = /^dns:([^:]+)(?::(\d{1,5}))?$/.exec(item);
  const srv = /^srv:(.+)$/.exec(item);
  if (dns && HOSTNAME.test(dns[1]) && (dns[2] === undefined || Number(dns[2]) <= 65535)) {
    return { kind: "dns", name: dns[1], port: dns[2] ? Number(dns[2]) : 80 };
  }
  if (srv && HOSTNAME.test(srv[1])) return { kind: "srv", name: srv[1] };
  fail(`"${item}" is not dns:NAME[:PORT] or srv:NAME`);
  return undefined;
}

/** Writes a discovery target the way {@link readDiscoverTarget} reads it. */
export function showDiscoverTarget(t: DiscoverTarget): string {
  return t.kind === "dns" ? `dns:${t.name}:${t.port}` : `srv:${t.name}`;
}

/** Reads one `--trust-proxy` entry: an address or CIDR range. */
export function readCidr(item: string, fail: Fail): Cidr | undefined {
  const cidr = parseCidr(item);
  if (!cidr) fail(`"${item}" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`);
  return cidr;
}

/** Reads `--max-client-connections`: `auto` (0: derived from the file limit at start) or 1-10,000,000. */
export function readClientCap(raw: string, fail: Fail): number {
  return raw === "auto" ? 0 : readInteger(raw, 1, 10_000_000, fail);
}

/** Reads `--workers`: `auto` (0: the CPUs the process may use, found at start) or 1-256. */
export function readWorkers(raw: string, fail: Fail): number {
  return raw === "auto" ? 0 : readInteger(raw, 1, 256, fail);
}
