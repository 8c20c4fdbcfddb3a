/**
 * deno-lb as a library: start a load balancer from a config object, and
 * program it in TypeScript with hooks checked by `deno check`.
 *
 * ```ts
 * import { parseConfig, startLoadBalancer } from "./mod.ts";
 *
 * const config = parseConfig({
 *   port: 8080,
 *   pools: { web: { backends: ["http://127.0.0.1:8081"] }, api: { backends: ["http://127.0.0.1:8082"] } },
 *   routes: [{ match: { "path-prefix": "/api" }, pool: "api" }, { match: {}, pool: "web" }],
 * });
 * const lb = startLoadBalancer(config, {
 *   hooks: {
 *     onRequest: (req) =>
 *       header(req, "authorization") ? undefined : new Response("sign in\n", { status: 401 }),
 *   },
 * });
 * ```
 *
 * Hooks (see {@link LbHooks}) run at the proxy's phases, each optional: on a
 * request before routing, rewriting the upstream request, picking a backend
 * (a custom {@link Strategy} per pool), modifying the response, shaping error
 * responses, and observing the access-log record. An absent hook costs
 * nothing. {@link LoadBalancer.handle} runs a `Request` through the whole lb
 * in-process, without the traffic listener.
 *
 * @module
 */

import { parseConfigFile } from "./lib/config/file.ts";
import { parseLbArgs } from "./lib/config/parse.ts";
import type { LbConfig } from "./lib/config/types.ts";
import { headerValue } from "./lib/core/transport.ts";
import type { ProxyRequest } from "./lib/core/message.ts";
import { type LbOptions, type LoadBalancer, startLoadBalancer as start } from "./lib/server/lb.ts";

export type { LbOptions, LoadBalancer };
export type {
  AccessRecord,
  ErrorInfo,
  HookContext,
  LbHooks,
  RequestDecision,
  ResponseDraft,
  UpstreamDraft,
} from "./lib/proxy/hooks.ts";
export type { PickContext, PickRequest, Strategy, StrategyOptions } from "./lib/balancing/types.ts";
export type { ExplainFields, ExplainRecord, ExplainValue, PickTrace } from "./lib/core/explain.ts";
export { createStrategy } from "./lib/balancing/mod.ts";
export type { Backend } from "./lib/pool/backend.ts";
export type { HealthState } from "./lib/pool/health_state.ts";
export type { LatencyWindow } from "./lib/pool/latency.ts";
export type { PeakEwma } from "./lib/pool/ewma.ts";
export type { OutlierState } from "./lib/resilience/outlier.ts";
export type { Body, ProxyReply, ProxyRequest } from "./lib/core/message.ts";
export type { BackendSpec } from "./lib/core/backend_spec.ts";
export type { Cidr } from "./lib/core/cidr.ts";
export type { LogFormat, LogLevelName } from "./lib/core/logging.ts";
export type { AccessField, AccessLogFormat } from "./lib/core/access_record.ts";
export { ACCESS_FIELDS, ACCESS_LOG_FORMATS } from "./lib/core/access_record.ts";
export { LOG_FORMATS, LOG_LEVELS } from "./lib/core/logging.ts";
export type {
  HeaderPairs,
  Transport,
  UpgradedConnection,
  UpstreamConn,
  UpstreamErrorKind,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTarget,
} from "./lib/core/transport.ts";
export { ClientAbortError, UpstreamError } from "./lib/core/transport.ts";
export type { Prober, ProbeTarget } from "./lib/health/tcp_probe.ts";
export type {
  AccessLogOutput,
  BalancingConfig,
  DiscoverTarget,
  DiscoveryConfig,
  FrontConfig,
  HashKey,
  HealthConfig,
  HttpCheckConfig,
  LbConfig,
  LimitsConfig,
  OutlierConfig,
  PoolConfig,
  RetryConfig,
  RouteConfig,
  RouteMatch,
  RouteTarget,
  TlsConfig,
  WebSocketConfig,
} from "./lib/config/types.ts";
export type * from "./lib/config/policies/types.ts";
export type { FrontName, StrategyName, TransportName } from "./lib/config/names.ts";
export { FRONT_NAMES, STRATEGY_NAMES, TRANSPORT_NAMES } from "./lib/config/names.ts";

/**
 * Validates a config object, shaped as the config file (`pools`, `routes`,
 * and the options by their flag names: `{ port: 8080, "health-path": "/readyz" }`),
 * and fills in every default. Throws a `UsageError` listing every problem.
 * `args` and `env` are layered on top as for the `lb` program (flags >
 * environment > this object > defaults); none by default.
 */
export function parseConfig(
  object: Readonly<Record<string, unknown>>,
  { args = [], env = {} }: {
    readonly args?: readonly string[];
    readonly env?: Readonly<Record<string, string | undefined>>;
  } = {},
): LbConfig {
  const file = parseConfigFile("config.json", JSON.stringify(object));
  const command = parseLbArgs(args, env, undefined, file);
  if (command.kind !== "run" && command.kind !== "check") {
    throw new TypeError(`parseConfig: args asked for ${command.kind}, not a configuration`);
  }
  return command.config;
}

/**
 * Starts a load balancer: its pools, health checks and listeners (traffic
 * on `config.port` unless `listen: false`, admin on `config.adminPort`).
 */
export function startLoadBalancer(config: LbConfig, options: LbOptions = {}): LoadBalancer {
  return start(config, options);
}

/** The value of the first field called `name` (any case) in a request, or undefined. */
export function header(request: ProxyRequest, name: string): string | undefined {
  return headerValue(request.headers, name.toLowerCase());
}
