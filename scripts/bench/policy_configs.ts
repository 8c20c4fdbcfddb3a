/**
 * The edge-policy variants of the `lb` target (`--policies`): for each, the
 * config file's top-level `policies` block (the default of the one route,
 * holding only that policy), the lb flags it also needs, and the header
 * lines every request sends. Pure: the services a variant points at (the
 * forward-auth service, the OTLP collector, Redis, the access-log file) are
 * parameters, so the tests can check what each variant configures, and that
 * the lb's own parser accepts it, without starting anything.
 *
 * Each policy is configured as a user would, and so that every request
 * passes it while it still does its whole work: the client address is
 * allowed (and checked against a deny list), the rate limit is far above
 * any load wrk offers, the credentials are right, the auth service says
 * yes. A refused request would show in the tables' errors column.
 *
 * @module
 */

import { AUTH_USER_FIELD } from "./configs.ts";

/** Every variant, in table order; `combined` (target `lb+all`) is every policy at once. */
export const POLICY_VARIANTS = [
  "ip",
  "rate-limit",
  "rate-limit-redis",
  "basic-auth",
  "forward-auth",
  "headers",
  "request-id",
  "tracing",
  "compression",
  "access-log",
  "retry",
  "combined",
] as const;
/** A variant's name, as `--policies` takes it. */
export type PolicyVariantName = (typeof POLICY_VARIANTS)[number];

/** The user the basic-auth variant lets in. */
export const BENCH_USER = "bench";
const BENCH_PASSWORD = "bench-password";
/**
 * bcrypt of BENCH_PASSWORD at cost 10 (bcryptjs's default, and more than
 * `htpasswd -B`'s 5): what a user would store. While the policy's cache of
 * verified credentials (`cache-ttl`, on by default) remembers it, only the
 * first request pays for bcrypt; the rest pay for the lookup.
 */
const BENCH_HASH = "$2b$10$DV29ic0iAysLLV2O2c/pCeM84RPBSPS784EZhUnCbiGgBy5xTNuNC";
/** The header line that carries the basic-auth variant's credentials. */
export const AUTHORIZATION_LINE = `Authorization: Basic ${btoa(`${BENCH_USER}:${BENCH_PASSWORD}`)}`;
/**
 * What a current browser offers (Chrome 123+), so the compression variant
 * picks its encoding the way it would for real clients.
 */
export const ACCEPT_ENCODING_LINE = "Accept-Encoding: gzip, deflate, br, zstd";

/** What the variants point at, all on loopback, all started by the benchmark. */
export interface PolicyServices {
  /** `http://127.0.0.1:P` of a backend that also answers `/auth` and `/v1/traces`. */
  readonly origin: string;
  /** `redis://127.0.0.1:P` of a running redis-server; absent when none could be started. */
  readonly redisUrl?: string;
  /** Where the variant writes its access log's JSON lines (in the benchmark's temp dir). */
  readonly accessLogFile: string;
}

/** One variant, ready to be written and started. */
export interface PolicyVariant {
  readonly name: PolicyVariantName;
  /** The table name: `lb+ip`, …, `lb+all`. */
  readonly label: string;
  /** The config file's top-level `policies` block. */
  readonly policies: Readonly<Record<string, unknown>>;
  /** Flags main.ts needs besides `--config` (the OTLP endpoint, the access-log file). */
  readonly flags: readonly string[];
  /** Header lines every request sends (`Name: value`), for wrk's `-H` and the check request. */
  readonly headers: readonly string[];
  /** Whether it needs {@link PolicyServices.redisUrl}. */
  readonly needsRedis: boolean;
}

/** The table name of a variant. */
export function policyLabel(name: PolicyVariantName): string {
  return name === "combined" ? "lb+all" : `lb+${name}`;
}

/** What one policy on its own adds. */
interface Piece {
  readonly policies: Record<string, unknown>;
  readonly flags?: readonly string[];
  readonly headers?: readonly string[];
}

/** One line per variant, for `--help` and the docs. */
export const POLICY_HELP: Readonly<Record<PolicyVariantName, string>> = {
  ip: "allow 127.0.0.0/8 and ::1, deny four unrelated CIDRs",
  "rate-limit": "key ip, 1,000,000 per 1s (far above the load), local buckets",
  "rate-limit-redis": "the same shared through a redis-server on loopback (skipped without)",
  "basic-auth": "one user, a cost-10 bcrypt hash; wrk sends its Authorization",
  "forward-auth": "GET /auth on a backend (204 with x-auth-user) before each request",
  headers: "a set, an add and a remove on request and response, with variables",
  "request-id": "generated per request, sent upstream and echoed",
  tracing: "sample 1, spans exported over OTLP/HTTP to a backend's /v1/traces",
  compression: "text/*, min-size 1 KiB; wrk offers gzip, deflate, br, zstd (see --cases text)",
  "access-log": "JSON lines to a file in the benchmark's temp dir",
  retry: "on-status 502, 503, 504 (no backend fails, so nothing is retried)",
  combined: "target lb+all: every policy above at once on the one route (local rate limit)",
};

function piece(name: Exclude<PolicyVariantName, "combined">, s: PolicyServices): Piece {
  switch (name) {
    case "ip":
      return {
        policies: {
          ip: {
            allow: ["127.0.0.0/8", "::1"],
            deny: ["10.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"],
          },
        },
      };
    case "rate-limit":
      return { policies: { "rate-limit": { key: ["ip"], limit: 1_000_000, period: "1s" } } };
    case "rate-limit-redis":
      return {
        policies: {
          "rate-limit": {
            key: ["ip"],
            limit: 1_000_000,
            period: "1s",
            // The store is required here: without one this variant would measure local buckets.
            store: { url: s.redisUrl ?? "redis://127.0.0.1:6379" },
          },
        },
      };
    case "basic-auth":
      return {
        policies: { "basic-auth": { realm: "bench", users: { [BENCH_USER]: BENCH_HASH } } },
        headers: [AUTHORIZATION_LINE],
      };
    case "forward-auth":
      return {
        policies: {
          "forward-auth": {
            url: `${s.origin}/auth`,
            "copy-headers": [AUTH_USER_FIELD],
            "user-header": AUTH_USER_FIELD,
          },
        },
      };
    case "headers":
      return {
        policies: {
          headers: {
            request: {
              set: { "x-route": "${route}" },
              add: { "x-client-ip": "${client_ip}" },
              remove: ["x-debug"],
            },
            response: {
              set: { "x-backend": "${backend}" },
              add: { "x-pool": "${pool}" },
              remove: ["server"],
            },
          },
        },
      };
    case "request-id":
      return { policies: { "request-id": true } };
    case "tracing":
      return {
        policies: { tracing: { sample: 1 } },
        // The OTLP/HTTP base URL: the exporter adds /v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT's meaning).
        flags: ["--otlp-endpoint", s.origin],
      };
    case "compression":
      return {
        policies: { compression: { types: ["text/*", "application/json"], "min-size": 1024 } },
        headers: [ACCEPT_ENCODING_LINE],
      };
    case "access-log":
      return {
        policies: { "access-log": true },
        flags: ["--access-log-format", "json", "--access-log-file", s.accessLogFile],
      };
    case "retry":
      return { policies: { retry: { "on-status": [502, 503, 504] } } };
  }
}

/** The variants `combined` is made of: every policy once (rate limits local). */
const COMBINED_OF = POLICY_VARIANTS.filter((n): n is Exclude<PolicyVariantName, "combined"> =>
  n !== "combined" && n !== "rate-limit-redis"
);

/** Variant `name` pointing at `s`. */
export function policyVariant(name: PolicyVariantName, s: PolicyServices): PolicyVariant {
  const pieces = name === "combined" ? COMBINED_OF.map((n) => piece(n, s)) : [piece(name, s)];
  return {
    name,
    label: policyLabel(name),
    policies: Object.assign({}, ...pieces.map((p) => p.policies)),
    flags: pieces.flatMap((p) => p.flags ?? []),
    headers: [...new Set(pieces.flatMap((p) => p.headers ?? []))],
    needsRedis: name === "rate-limit-redis",
  };
}

/** The config file of a variant: its policies as every route's defaults; backends from the flags. */
export function policyConfigText(v: PolicyVariant): string {
  return JSON.stringify({ policies: v.policies }, null, 2) + "\n";
}

/**
 * Header lines as a record for `fetch` (`Authorization: Basic …` →
 * `{ authorization: "Basic …" }`); the name is what precedes the first colon.
 */
export function headerRecord(lines: readonly string[]): Record<string, string> {
  return Object.fromEntries(lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }));
}

/**
 * Which policies `/status` must show on the route for the variant to count
 * as started: every key of its block (a policy silently ignored would be
 * measured as costing nothing).
 */
export function missingPolicies(
  v: PolicyVariant,
  routes: readonly { readonly policies?: Readonly<Record<string, unknown>> }[],
): string[] {
  const shown = new Set(routes.flatMap((r) => Object.keys(r.policies ?? {})));
  return Object.keys(v.policies).filter((k) => !shown.has(k));
}
