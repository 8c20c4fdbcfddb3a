/**
 * Configuration of the front door: which server accepts client
 * connections, its client timeouts and connection cap, and PROXY protocol.
 * Split from `config.ts` so each file stays one screenful of rules.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import { positiveDuration } from "./policy.ts";
import { FRONT_NAMES, type FrontName } from "./names.ts";

/** The front's settings. */
export interface FrontConfig {
  /** `h1`: our HTTP/1.1 server on Deno.listen; `deno-serve`: Deno.serve (plain HTTP; TLS always uses it). */
  readonly name: FrontName;
  /** The whole request head must arrive within this (`--client-header-timeout`, 10s). */
  readonly headerTimeoutMs: number;
  /** Longest wait for the next request on a kept-alive connection (`--client-idle-timeout`, 60s). */
  readonly idleTimeoutMs: number;
  /** Longest wait for a byte of the body, or for a reply write to progress (`--client-body-timeout`, 60s). */
  readonly bodyTimeoutMs: number;
  /**
   * Most client connections open at once (`--max-client-connections`); 0
   * means derived from the process's file limit at start (see
   * {@link defaultMaxClientConnections}).
   */
  readonly maxClientConnections: number;
  /** Every connection must open with a PROXY header (v1 or v2), from a `--trust-proxy` source. */
  readonly proxyProtocol: boolean;
}

/** The flags this module reads, for `parseArgs`. */
export const FRONT_FLAGS = {
  front: { type: "string" },
  "client-header-timeout": { type: "string" },
  "client-idle-timeout": { type: "string" },
  "client-body-timeout": { type: "string" },
  "max-client-connections": { type: "string" },
  "proxy-protocol": { type: "boolean" },
} as const;

type Get = (
  name: keyof typeof FRONT_FLAGS,
  envName: string | undefined,
  fallback: string,
) => string;

/** Parses the front flags. `on` reads a boolean flag (command line or file). */
export function parseFront(p: Problems, get: Get, on: (name: "proxy-protocol") => boolean) {
  const max = get("max-client-connections", undefined, "auto");
  const config: FrontConfig = {
    name: p.choice("front", get("front", undefined, FRONT_NAMES[0]), FRONT_NAMES),
    headerTimeoutMs: positiveDuration(
      p,
      "client-header-timeout",
      get("client-header-timeout", undefined, "10s"),
    ),
    idleTimeoutMs: positiveDuration(
      p,
      "client-idle-timeout",
      get("client-idle-timeout", undefined, "60s"),
    ),
    bodyTimeoutMs: positiveDuration(
      p,
      "client-body-timeout",
      get("client-body-timeout", undefined, "60s"),
    ),
    maxClientConnections: max === "auto"
      ? 0
      : p.integer("max-client-connections", max, 1, 10_000_000),
    proxyProtocol: on("proxy-protocol"),
  };
  return config;
}

/**
 * The connection cap when none is set: the soft file limit less room for
 * upstream sockets (one per backend connection the transport may open, up
 * to half the limit) and 64 for listeners, health checks and files. Pure.
 */
export function defaultMaxClientConnections(fileLimit: number, upstreamSockets: number): number {
  const reserve = Math.min(Math.floor(fileLimit / 2), upstreamSockets) + 64;
  return Math.max(16, fileLimit - reserve);
}

/** Assumed when the file limit can't be read; see {@link openFileLimit}. */
export const ASSUMED_FILE_LIMIT = 65_536;

/**
 * The process's limit on open files, and where it came from. Deno raises its
 * soft limit to the hard one at start, so that is what counts. It is read
 * from `/proc/self/limits`, which Deno 2.9 lets a program read only with
 * `--allow-all`; otherwise {@link ASSUMED_FILE_LIMIT} is assumed (hard limits
 * are 524,288 under systemd and 1,048,576 under Docker by default), and an
 * operator with a lower limit sets `--max-client-connections`.
 */
export function openFileLimit(): { readonly limit: number; readonly read: boolean } {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(text);
    if (m) return { limit: m[1] === "unlimited" ? 1_048_576 : Number(m[1]), read: true };
  } catch {
    // Not Linux, or not permitted: assume.
  }
  return { limit: ASSUMED_FILE_LIMIT, read: false };
}
