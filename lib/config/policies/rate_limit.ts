/**
 * `policies.rate-limit`: token buckets per key, `limit` tokens per
 * `period` up to `burst`, kept in this process or shared through Redis
 * (`store`). Everything is checked here, so the runtime never meets a value
 * it would have to guess about: the period is whole seconds (the
 * `RateLimit-Policy` field's `w` has no finer unit), the name is printable
 * ASCII (it goes into a structured-field string and a Redis key), and the store's
 * URL is taken apart once.
 *
 * @module
 */

import { formatDuration, parseDuration } from "../../core/duration.ts";
import type { Problems } from "../cli.ts";
import type { PolicyParser } from "./parser.ts";
import type { RateHeaders, RateKeyPart, RateLimitConfig, RateStoreConfig } from "./types.ts";

/** Defaults, stated once for the schema's descriptions, the parser and the README. */
export const RATE_LIMIT_DEFAULTS = {
  key: ["ip"],
  maxKeys: 100_000,
  headers: "always" as RateHeaders,
  prefix: "lb:rl:",
  timeoutMs: 50,
  onError: "open" as const,
  failures: 3,
  coolDownMs: 5000,
  port: 6379,
} as const;

/** What a structured-field string holds (RFC 9651 §3.3.3): printable ASCII. */
const NAME = /^[\x20-\x7e]{1,100}$/;
const FIELD = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** RFC 6265 §4.1.1 cookie-name: a token. */
const COOKIE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADERS: readonly RateHeaders[] = ["always", "denied", "never"];
const D = RATE_LIMIT_DEFAULTS;

interface RawStore {
  url: string;
  timeout?: string;
  "on-error"?: "open" | "closed";
  prefix?: string;
  failures?: number;
  "cool-down"?: string;
}

interface Raw {
  name?: string;
  key?: string[];
  limit: number;
  period: string;
  burst?: number;
  "max-keys"?: number;
  headers?: RateHeaders;
  store?: RawStore;
}

/** Parses `policies.rate-limit`. */
export const rateLimitPolicy: PolicyParser<RateLimitConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["limit", "period"],
    description:
      "token buckets per key; over the limit, 429 with Retry-After and RateLimit fields; shared through Redis with a store",
    properties: {
      name: {
        type: "string",
        description:
          "the policy's name in RateLimit fields, metrics and store keys; routes sharing a name share buckets (the route's name)",
      },
      key: {
        type: "array",
        minItems: 1,
        items: { type: "string" },
        description: "what a bucket is per: ip, route, header:<name>, cookie:<name> ([ip])",
      },
      limit: { type: "integer", minimum: 1, description: "tokens (requests) added per period" },
      period: { type: "string", description: "the refill period in whole seconds (1s, 1m)" },
      burst: {
        type: "integer",
        minimum: 1,
        description: "bucket size: requests allowed at once after a quiet spell (limit)",
      },
      "max-keys": {
        type: "integer",
        minimum: 1,
        description: `keys kept in this process, least recently used first out (${D.maxKeys})`,
      },
      headers: {
        type: "string",
        enum: [...HEADERS],
        description:
          "replies carrying RateLimit and RateLimit-Policy: always, denied, never (always)",
      },
      store: {
        type: "object",
        additionalProperties: false,
        required: ["url"],
        description: "shares the buckets between replicas through Redis",
        properties: {
          url: { type: "string", description: "redis://[[user]:password@]host[:port][/db]" },
          timeout: {
            type: "string",
            description: `a check slower than this falls back (${formatDuration(D.timeoutMs)})`,
          },
          "on-error": {
            type: "string",
            enum: ["open", "closed"],
            description: "store down or slow: open = the local bucket decides, closed = 503 (open)",
          },
          prefix: { type: "string", description: `prepended to every key (${D.prefix})` },
          failures: {
            type: "integer",
            minimum: 1,
            description: `consecutive failures that open the circuit (${D.failures})`,
          },
          "cool-down": {
            type: "string",
            description: `how long an open circuit asks nothing before one probe (${
              formatDuration(D.coolDownMs)
            })`,
          },
        },
      },
    },
  },
  describe: (c) => ({
    name: c.name,
    key: c.key.map(keyPartText),
    limit: c.limit,
    period: formatDuration(c.periodMs),
    burst: c.burst,
    maxKeys: c.maxKeys,
    headers: c.headers,
    ...(c.store && {
      store: {
        url: redactedUrl(c.store),
        timeout: formatDuration(c.store.timeoutMs),
        onError: c.store.onError,
        prefix: c.store.prefix,
        failures: c.store.failures,
        coolDown: formatDuration(c.store.coolDownMs),
      },
    }),
  }),
  parse(p, value, where) {
    const raw = value as Raw;
    const at = where.at;
    // Route names are lower-case tokens, so only a name given here can be wrong.
    const name = raw.name ?? where.route;
    if (!NAME.test(name)) {
      p.at(
        `${at}.name`,
        `"${name}" can't name a rate limit (expected 1-100 printable ASCII characters)`,
      );
    }
    const periodMs = period(p, raw.period, `${at}.period`);
    const config: RateLimitConfig = {
      name,
      key: keyParts(p, raw.key ?? [...D.key], `${at}.key`),
      limit: raw.limit,
      periodMs,
      burst: raw.burst ?? raw.limit,
      maxKeys: raw["max-keys"] ?? D.maxKeys,
      headers: raw.headers ?? D.headers,
    };
    if (raw.store === undefined) return config;
    const store = parseStore(p, raw.store, `${at}.store`);
    return store ? { ...config, store } : config;
  },
};

/** A key part as written in the file. */
export function keyPartText(part: RateKeyPart): string {
  return part.kind === "header" || part.kind === "cookie" ? `${part.kind}:${part.name}` : part.kind;
}

function period(p: Problems, text: string, at: string): number {
  const ms = parseDuration(String(text));
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0) {
    p.at(
      at,
      `"${text}" is not a period in whole seconds (expected e.g. 1s, 10s, 1m, 1h; RateLimit-Policy's window has no finer unit, so 10 per 100ms is limit 100, period 1s)`,
    );
    return 1000;
  }
  return ms;
}

function keyParts(p: Problems, list: readonly string[], at: string): RateKeyPart[] {
  const out: RateKeyPart[] = [];
  const seen = new Set<string>();
  for (const text of list) {
    const part = keyPart(text.trim());
    if (part === undefined) {
      p.at(
        at,
        `"${text}" is not a key part (expected ip, route, header:<field name>, cookie:<cookie name>)`,
      );
      continue;
    }
    const canonical = keyPartText(part);
    if (seen.has(canonical)) p.at(at, `"${canonical}" is given twice`);
    seen.add(canonical);
    out.push(part);
  }
  return out;
}

function keyPart(text: string): RateKeyPart | undefined {
  if (text === "ip" || text === "route") return { kind: text };
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const kind = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (kind === "header" && FIELD.test(name.toLowerCase())) {
    return { kind, name: name.toLowerCase() };
  }
  if (kind === "cookie" && COOKIE.test(name)) return { kind, name };
  return undefined;
}

function parseStore(p: Problems, raw: RawStore, at: string): RateStoreConfig | undefined {
  const target = redisTarget(p, raw.url, `${at}.url`);
  const timeoutMs = positiveDuration(p, raw.timeout, D.timeoutMs, `${at}.timeout`);
  const coolDownMs = positiveDuration(p, raw["cool-down"], D.coolDownMs, `${at}.cool-down`);
  if (target === undefined) return undefined;
  return {
    ...target,
    prefix: raw.prefix ?? D.prefix,
    timeoutMs,
    onError: raw["on-error"] ?? D.onError,
    failures: raw.failures ?? D.failures,
    coolDownMs,
  };
}

function positiveDuration(
  p: Problems,
  text: string | undefined,
  fallback: number,
  at: string,
): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(String(text));
  if (ms === undefined || ms === 0) {
    p.at(at, `"${text}" is not a duration above 0 (expected e.g. 50ms, 1s, 5s)`);
    return fallback;
  }
  return ms;
}

type Target = Pick<RateStoreConfig, "url" | "host" | "port" | "db" | "username" | "password">;

/** `redis://[[user]:password@]host[:port][/db]` taken apart, or a problem at `at`. */
function redisTarget(p: Problems, url: string, at: string): Target | undefined {
  const bad = (why: string) => {
    p.at(at, `"${redacted(url)}" ${why} (expected redis://host:port or redis://host:port/db)`);
    return undefined;
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad("is not a URL");
  }
  if (u.protocol !== "redis:") {
    return bad(
      u.protocol === "rediss:" ? "uses TLS, which this store does not speak" : "is not redis://",
    );
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") return bad("has no host");
  if (u.search !== "" || u.hash !== "") return bad("has a query or fragment");
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path)) return bad(`has "/${path}", not a database number`);
  const out: Target = {
    url,
    host,
    port: u.port === "" ? D.port : Number(u.port),
    db: path === "" ? 0 : Number(path),
    ...(u.username !== "" && { username: decodeURIComponent(u.username) }),
    ...(u.password !== "" && { password: decodeURIComponent(u.password) }),
  };
  return out;
}

/** A URL with its password replaced, for messages. */
function redacted(url: string): string {
  return url.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, "$1***@");
}

/** The store's URL without its password, for `/status`. */
function redactedUrl(store: RateStoreConfig): string {
  return redacted(store.url);
}
