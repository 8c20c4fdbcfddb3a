/**
 * Helpers of the admin tests: pools built the way the server builds them,
 * an admin handler over them, and a `call` that speaks JSON to it in
 * process.
 */

import { createAdminHandler } from "../../lib/admin/handler.ts";
import type { AdminPool } from "../../lib/admin/types.ts";
import { Problems } from "../../lib/config/cli.ts";
import { parseBackends } from "../../lib/config/parse.ts";
import type { HealthConfig, PoolConfig, RouteConfig } from "../../lib/config/types.ts";
import { singleThreadReport } from "../../lib/server/thread_stats.ts";
import { createLbMetrics } from "../../lib/metrics/lb_metrics.ts";
import { Pool } from "../../lib/pool/pool.ts";

export const TOKEN = "s3cret-token-for-tests-0123456789";
export const A = "http://127.0.0.1:9001";
export const B = "http://127.0.0.1:9002";
export const C = "http://127.0.0.1:9003";
export const D = "http://127.0.0.1:9004";
export const HEALTH: HealthConfig = {
  intervalMs: 1000,
  timeoutMs: 100,
  rise: 1,
  fall: 1,
  downIntervalMs: 1000,
};

export type Handler = ReturnType<typeof createAdminHandler>;

/** A pool's configuration as the admin listener gets it; only `name` and `strategy` show. */
export function poolConfig(name: string, backends: string): PoolConfig {
  return {
    name,
    backends: backends === "" ? [] : parseBackends(new Problems(), backends),
    strategy: "round-robin",
    transport: "h1",
    health: HEALTH,
    connectTimeoutMs: 1000,
    responseTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    retries: 1,
    balancing: {
      hashKey: { kind: "client-ip" },
      stickyCookieName: "lb",
      stickySecret: "secret",
      stickySecretGenerated: false,
      ewmaDecayMs: 10_000,
      slowStartMs: 0,
    },
    outlier: { consecutiveErrors: 0, on5xx: false, baseEjectionMs: 30_000, maxEjectionPercent: 50 },
    retry: { budgetPercent: 20, budgetMinPerSecond: 10, tryTimeoutMs: 0, bufferBytes: 65536 },
    limits: { maxPerBackend: 0, queueTimeoutMs: 0, upstreamConnections: 0 },
    discovery: { targets: [], intervalMs: 30_000 },
  };
}

/** A pool named `name` of `backends` (a `--backends` list, all up), with its configuration. */
export function adminPool(name: string, backends: string): AdminPool {
  const config = poolConfig(name, backends);
  const pool = new Pool(config.backends, HEALTH, Date.now(), {
    name,
    ewmaDecayMs: 10_000,
    slowStartMs: 0,
  });
  return { pool, config };
}

/** What {@link setup} builds. */
export interface Setup {
  readonly pools: AdminPool[];
  /** The first pool. */
  readonly pool: Pool;
  readonly handler: Handler;
  [Symbol.dispose](): void;
}

/** Options of {@link setup}. */
export interface SetupOptions {
  /** The configured token; null for none. */
  readonly token?: string | null;
  /** Pool name → `--backends` list; `{ default: "A,B" }` by default. */
  readonly pools?: Readonly<Record<string, string>>;
  readonly routes?: readonly RouteConfig[];
  readonly shuttingDown?: () => boolean;
}

/** Pools (by default one, `default`, of A and B, both up) behind an admin handler; `using` closes them. */
export function setup(options: SetupOptions = {}): Setup {
  const token = options.token === undefined ? TOKEN : options.token;
  const spec = options.pools ?? { default: `${A},${B}` };
  const pools = Object.entries(spec).map(([name, list]) => adminPool(name, list));
  const handler = createAdminHandler({
    pools: () => pools,
    routes: () => options.routes ?? [],
    report: () =>
      Promise.resolve(singleThreadReport(pools.map((p) => p.pool), createLbMetrics(), Date.now())),
    shuttingDown: options.shuttingDown ?? (() => false),
    startedAt: Date.now(),
    version: "test",
    token: token ?? undefined,
  });
  return {
    pools,
    pool: pools[0]?.pool,
    handler,
    [Symbol.dispose]: () => pools.forEach((p) => p.pool.close()),
  };
}

/** How {@link call} sends a request. */
export interface CallOptions {
  readonly method?: string;
  /** A string, stream or bytes is sent as is; anything else as JSON. */
  readonly body?: unknown;
  /** The whole `Authorization` header; `Bearer TOKEN` by default, null for none. */
  readonly auth?: string | null;
  /** `application/json` when there is a body, by default; null for none. */
  readonly contentType?: string | null;
}

/** An answer, its body parsed when it is JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // deno-lint-ignore no-explicit-any
  readonly json: any;
}

/** Sends one request to the admin handler. */
export async function call(
  handler: Handler,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const { method = "GET", body } = options;
  const headers = new Headers();
  const auth = options.auth === undefined ? `Bearer ${TOKEN}` : options.auth;
  if (auth !== null) headers.set("authorization", auth);
  const type = options.contentType === undefined && body !== undefined
    ? "application/json"
    : options.contentType;
  if (type) headers.set("content-type", type);
  const raw = body === undefined || typeof body === "string" || body instanceof ReadableStream ||
    body instanceof Uint8Array;
  const payload = raw ? body : JSON.stringify(body);
  const res = await handler(
    new Request(`http://admin.test${path}`, { method, headers, body: payload as BodyInit }),
  );
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.startsWith("application/json");
  return {
    status: res.status,
    headers: res.headers,
    json: isJson && text ? JSON.parse(text) : text,
  };
}

export const enc = encodeURIComponent;

/** Everything the API shows about the pools, to check that a refusal changed nothing. */
export async function snapshot(handler: Handler): Promise<string> {
  const pools = (await call(handler, "/api/pools")).json;
  const report = (await call(handler, "/status")).json;
  const noLatency = (b: { latencyMs: unknown }) => ({ ...b, latencyMs: 0 });
  return JSON.stringify([
    pools,
    report.backends.map(noLatency),
    report.pools.map((p: { backends: { latencyMs: unknown }[] }) => ({
      ...p,
      backends: p.backends.map(noLatency),
    })),
  ]);
}
