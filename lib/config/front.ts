/**
 * Configuration of the front door: which server accepts client
 * connections, its client timeouts and connection cap, and PROXY protocol.
 * Split from `config.ts` so each file stays one screenful of rules.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import { positiveDuration } from "./policy.ts";
import { FRONT_NAMES } from "./names.ts";
import type { FrontConfig } from "./types.ts";

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
