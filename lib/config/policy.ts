/**
 * Configuration of balancing policy and resilience (`--hash-key`, sticky
 * cookies, EWMA decay, slow start, HTTP health checks, outlier ejection,
 * retry budget and buffer, per-backend connection limits). Split from
 * `config.ts` so each file stays one screenful of rules.
 *
 * @module
 */

import type { Problems } from "./cli.ts";
import type {
  BalancingConfig,
  HashKey,
  HttpCheckConfig,
  LimitsConfig,
  OutlierConfig,
  RetryConfig,
} from "./types.ts";

/** The flags this module reads, for `parseArgs`. */
export const POLICY_FLAGS = {
  "hash-key": { type: "string" },
  "sticky-cookie": { type: "string" },
  "sticky-secret": { type: "string" },
  "ewma-decay": { type: "string" },
  "slow-start": { type: "string" },
  "health-path": { type: "string" },
  "health-host": { type: "string" },
  "health-status": { type: "string" },
  "health-down-interval": { type: "string" },
  "eject-after": { type: "string" },
  "eject-on-5xx": { type: "boolean" },
  "eject-time": { type: "string" },
  "max-ejection-percent": { type: "string" },
  "retry-budget": { type: "string" },
  "retry-budget-min": { type: "string" },
  "try-timeout": { type: "string" },
  "retry-buffer": { type: "string" },
  "max-connections-per-backend": { type: "string" },
  "queue-timeout": { type: "string" },
  "upstream-connections": { type: "string" },
} as const;

type Get = (
  name: keyof typeof POLICY_FLAGS,
  envName: string | undefined,
  fallback: string,
) => string;

/** Parses `--hash-key`. */
export function parseHashKey(p: Problems, raw: string): HashKey {
  if (raw === "client-ip" || raw === "path") return { kind: raw };
  const m = /^(header|cookie):([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(raw);
  if (m) {
    return {
      kind: m[1] as "header" | "cookie",
      name: m[1] === "header" ? m[2].toLowerCase() : m[2],
    };
  }
  p.add("hash-key", `"${raw}" is not one of client-ip, path, header:NAME, cookie:NAME`);
  return { kind: "client-ip" };
}

/** Parses `64KiB`, `1MiB`, `512` (bytes). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(B|KiB|MiB|KB|MB)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, KB: 1000, MB: 1000 ** 2 }[m[2] ?? "B"]!;
  return Number(m[1]) * unit;
}

/** Parses the balancing flags. */
export function parseBalancing(
  p: Problems,
  get: Get,
  env: Readonly<Record<string, string | undefined>>,
  randomSecret: () => string,
): BalancingConfig {
  const cookie = get("sticky-cookie", undefined, "lb_sticky");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cookie)) {
    p.add("sticky-cookie", `"${cookie}" is not a valid cookie name`);
  }
  const configured = get("sticky-secret", "STICKY_SECRET", "");
  return {
    hashKey: parseHashKey(p, get("hash-key", undefined, "client-ip")),
    stickyCookieName: cookie,
    stickySecret: configured || (env.STICKY_SECRET ?? "") || randomSecret(),
    stickySecretGenerated: configured === "" && !env.STICKY_SECRET,
    ewmaDecayMs: positiveDuration(p, "ewma-decay", get("ewma-decay", undefined, "10s")),
    slowStartMs: p.duration("slow-start", get("slow-start", undefined, "0s")),
  };
}

/** Parses the HTTP health-check flags; undefined unless `--health-path` is set. */
export function parseHttpCheck(p: Problems, get: Get): HttpCheckConfig | undefined {
  const path = get("health-path", undefined, "");
  const status = get("health-status", undefined, "200-399");
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(status);
  if (!m || (m[2] && Number(m[2]) < Number(m[1]))) {
    p.add("health-status", `"${status}" is not a status or range such as 200-399`);
  }
  if (path === "") return undefined;
  if (!path.startsWith("/") || /[\s]/.test(path)) {
    p.add("health-path", `"${path}" is not an absolute path such as /readyz`);
  }
  const host = get("health-host", undefined, "");
  return {
    path,
    host: host || undefined,
    statusMin: m ? Number(m[1]) : 200,
    statusMax: m ? Number(m[2] ?? m[1]) : 399,
  };
}

/** Parses the outlier-detection flags. */
export function parseOutlier(p: Problems, get: Get, on5xx: boolean): OutlierConfig {
  return {
    consecutiveErrors: p.integer("eject-after", get("eject-after", undefined, "5"), 0, 1000),
    on5xx,
    baseEjectionMs: positiveDuration(p, "eject-time", get("eject-time", undefined, "30s")),
    maxEjectionPercent: p.integer(
      "max-ejection-percent",
      get("max-ejection-percent", undefined, "50"),
      0,
      100,
    ),
  };
}

/** Parses the retry flags; `responseTimeoutMs` is the default per-try timeout. */
export function parseRetry(p: Problems, get: Get, responseTimeoutMs: number): RetryConfig {
  const bufferText = get("retry-buffer", undefined, "64KiB");
  const bufferBytes = parseSize(bufferText);
  if (bufferBytes === undefined || bufferBytes > 64 * 1024 * 1024) {
    p.add("retry-buffer", `"${bufferText}" is not a size up to 64MiB (e.g. 64KiB, 1MiB, 0)`);
  }
  const tryText = get("try-timeout", undefined, "");
  return {
    budgetPercent: p.integer("retry-budget", get("retry-budget", undefined, "20"), 0, 100),
    budgetMinPerSecond: p.integer(
      "retry-budget-min",
      get("retry-budget-min", undefined, "10"),
      0,
      100_000,
    ),
    tryTimeoutMs: tryText === "" ? responseTimeoutMs : positiveDuration(p, "try-timeout", tryText),
    bufferBytes: bufferBytes ?? 0,
  };
}

/** Parses the per-backend limit flags. */
export function parseLimits(p: Problems, get: Get): LimitsConfig {
  return {
    maxPerBackend: p.integer(
      "max-connections-per-backend",
      get("max-connections-per-backend", undefined, "0"),
      0,
      1_000_000,
    ),
    queueTimeoutMs: positiveDuration(p, "queue-timeout", get("queue-timeout", undefined, "1s")),
    upstreamConnections: p.integer(
      "upstream-connections",
      get("upstream-connections", undefined, "128"),
      0,
      1_000_000,
    ),
  };
}

/** A duration that must be greater than zero. */
export function positiveDuration(p: Problems, flag: string, raw: string): number {
  const before = p.list.length;
  const ms = p.duration(flag, raw);
  if (ms === 0 && p.list.length === before) p.add(flag, `"${raw}" must be greater than 0`);
  return ms;
}
