/**
 * Every metric the load balancer exports, named in one place.
 *
 * @module
 */

import {
  type Counter,
  type CounterChild,
  type Gauge,
  type GaugeChild,
  type Histogram,
  type HistogramChild,
  Registry,
} from "./registry.ts";

/** Upper bounds (seconds) for request durations: 1 ms to 30 s. */
export const DURATION_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** The load balancer's metric families. */
export interface LbMetrics {
  readonly registry: Registry;
  /** Responses to clients, by backend (`none` when no backend answered), method and status class. */
  readonly requests: Counter;
  /** Time from request to response headers, by backend. */
  readonly duration: Histogram;
  /** Client requests being handled now. */
  readonly inFlight: GaugeChild;
  /** Per-backend requests being handled now. */
  readonly backendInFlight: Gauge;
  /** 1 when the backend is healthy. */
  readonly backendUp: Gauge;
  /** Health flips, by backend and new state. */
  readonly healthTransitions: Counter;
  /** Active probes, by backend and result. */
  readonly healthProbes: Counter;
  /** Retries, by the kind of error that caused them. */
  readonly retries: Counter;
  /** Upstream failures, by backend and kind. */
  readonly upstreamErrors: Counter;
  /** Retries refused because the retry budget was spent. */
  readonly retryBudgetExhausted: CounterChild;
  /** Outlier ejections, by backend. */
  readonly ejections: Counter;
  /** 1 while the backend is ejected. */
  readonly backendEjected: Gauge;
  /** The weight strategies use now (lower during slow start). */
  readonly backendWeight: Gauge;
  /** Requests waiting for a slot under --max-connections-per-backend. */
  readonly queueDepth: Gauge;
  /** Requests turned away by a full queue or a queue timeout. */
  readonly queueRejected: Counter;
  /** Time requests spent waiting in a backend queue. */
  readonly queueWait: HistogramChild;
  /** Configuration reloads, by result (`success`, `failure`). */
  readonly configReloads: Counter;
  /** Workers started again, by worker and reason (`crashed`, `killed`, `unresponsive`). */
  readonly workerRestarts: Counter;
  /** 1 when the last reload was applied (or none was tried), 0 after a rejected one. */
  readonly configLastReloadOk: GaugeChild;
  /** WebSocket tunnels open now. */
  readonly wsTunnelsOpen: GaugeChild;
  /** WebSocket messages relayed, by direction (`client_to_backend`, `backend_to_client`). */
  readonly wsMessages: Counter;
  /** WebSocket payload bytes relayed, by direction. */
  readonly wsBytes: Counter;
  /** WebSocket tunnels ended, by reason (see `TunnelEnd` in `proxy/websocket_tunnel.ts`). */
  readonly wsTunnelsClosed: Counter;
  /** Client connections open now on the h1 front. */
  readonly clientConnections: GaugeChild;
  /** Client connections closed at once, by reason (`limit`, `proxy_protocol`). */
  readonly clientRejected: Counter;
  /** Client connections cut by a timeout, by phase (`header`, `idle`, `body`, `send`). */
  readonly clientTimeouts: Counter;
  /** Requests the h1 front refused itself (malformed, too large, unsupported), by status. */
  readonly clientRefused: Counter;
  /** Upgrade tunnels (byte splices) open now on the h1 front. */
  readonly tunnelsOpen: GaugeChild;
  /** Bytes relayed through upgrade tunnels, by direction. */
  readonly tunnelBytes: Counter;
  /** Mirrored copies of requests, by route, mirror pool and result. */
  readonly mirrorRequests: Counter;
  /** Mirrored requests in flight now. */
  readonly mirrorInFlight: GaugeChild;
  /** Requests a policy answered itself (403, 429, 401...), by route and policy. */
  readonly policyDenied: Counter;
  /** Rate-limit checks the shared store could not answer, by reason. */
  readonly rateLimitStoreErrors: Counter;
  /** Keys in the local rate-limit tables now, by route. */
  readonly rateLimitKeys: Gauge;
  /** Forward-auth subrequests, by route and result. */
  readonly forwardAuth: Counter;
  /** Responses compressed, by route and encoding. */
  readonly compressed: Counter;
  /** Body bytes into and out of compression. */
  readonly compressionBytes: Counter;
  /** Compressible replies sent as they were because `max-streams` were running, by route. */
  readonly compressionBusy: Counter;
  /** Trace spans, by what became of them (exported, failed, dropped). */
  readonly spans: Counter;
  /** Request IDs given to requests, by route and source (kept from a trusted peer, or generated). */
  readonly requestIds: Counter;
  /** Messages edited by header rules, by route and side (request, response). */
  readonly headerRules: Counter;
  /** Access-log file reopens (SIGUSR1), write failures and lines dropped, by event. */
  readonly accessLogEvents: Counter;
}

/** Creates the families in a fresh registry. */
export function createLbMetrics(registry = new Registry()): LbMetrics {
  return {
    registry,
    requests: registry.counter(
      "lb_requests_total",
      "Responses sent to clients, by route, pool, backend, method and status class.",
      ["route", "pool", "backend", "method", "code"],
    ),
    duration: registry.histogram(
      "lb_request_duration_seconds",
      "Time from receiving a request to sending its response headers.",
      ["route", "pool", "backend"],
      DURATION_BUCKETS,
    ),
    inFlight: registry.gauge("lb_requests_in_flight", "Client requests being handled now.")
      .labels(),
    backendInFlight: registry.gauge(
      "lb_backend_requests_in_flight",
      "Requests sent to a backend whose responses are not yet fully delivered.",
      ["pool", "backend"],
    ),
    backendUp: registry.gauge("lb_backend_up", "1 when the backend is healthy, else 0.", [
      "pool",
      "backend",
    ]),
    healthTransitions: registry.counter(
      "lb_health_transitions_total",
      "Backend health changes, by the state entered.",
      ["pool", "backend", "to"],
    ),
    healthProbes: registry.counter("lb_health_probes_total", "Active health probes by result.", [
      "pool",
      "backend",
      "result",
    ]),
    retries: registry.counter(
      "lb_retries_total",
      "Requests re-sent to another backend, by pool and the error that caused it.",
      ["pool", "reason"],
    ),
    upstreamErrors: registry.counter(
      "lb_upstream_errors_total",
      "Failed upstream attempts, by pool, backend and kind.",
      ["pool", "backend", "kind"],
    ),
    retryBudgetExhausted: registry.counter(
      "lb_retry_budget_exhausted_total",
      "Retries not made because the retry budget was spent.",
    ).labels(),
    ejections: registry.counter(
      "lb_outlier_ejections_total",
      "Backends ejected by passive outlier detection.",
      ["pool", "backend"],
    ),
    backendEjected: registry.gauge("lb_backend_ejected", "1 while the backend is ejected.", [
      "pool",
      "backend",
    ]),
    backendWeight: registry.gauge(
      "lb_backend_effective_weight",
      "The weight balancing uses now (lower during slow start).",
      ["pool", "backend"],
    ),
    queueDepth: registry.gauge(
      "lb_backend_queue_depth",
      "Requests waiting for a slot under --max-connections-per-backend.",
      ["pool", "backend"],
    ),
    queueRejected: registry.counter(
      "lb_backend_queue_rejected_total",
      "Requests answered 503 by a full queue or a queue timeout.",
      ["pool", "backend", "reason"],
    ),
    queueWait: registry.histogram(
      "lb_backend_queue_wait_seconds",
      "Time requests waited for a backend slot.",
      [],
      DURATION_BUCKETS,
    ).labels(),
    configReloads: registry.counter(
      "lb_config_reloads_total",
      "Configuration reloads (SIGHUP or file change), by result.",
      ["result"],
    ),
    workerRestarts: registry.counter(
      "lb_worker_restarts_total",
      "Worker threads replaced after they crashed, were killed or stopped answering.",
      ["worker", "reason"],
    ),
    configLastReloadOk: (() => {
      const g = registry.gauge(
        "lb_config_last_reload_successful",
        "1 when the last configuration reload was applied, 0 when it was rejected.",
      ).labels();
      g.set(1);
      return g;
    })(),
    wsTunnelsOpen: registry.gauge(
      "lb_websocket_tunnels_open",
      "WebSocket tunnels open now.",
    ).labels(),
    wsMessages: registry.counter(
      "lb_websocket_messages_total",
      "WebSocket messages relayed, by direction.",
      ["direction"],
    ),
    wsBytes: registry.counter(
      "lb_websocket_bytes_total",
      "WebSocket payload bytes relayed, by direction.",
      ["direction"],
    ),
    wsTunnelsClosed: registry.counter(
      "lb_websocket_tunnels_closed_total",
      "WebSocket tunnels ended, by reason.",
      ["reason"],
    ),
    clientConnections: registry.gauge(
      "lb_client_connections_open",
      "Client connections open now (h1 front).",
    ).labels(),
    clientRejected: registry.counter(
      "lb_client_connections_rejected_total",
      "Client connections closed at once: over --max-client-connections, or a missing or bad PROXY header.",
      ["reason"],
    ),
    clientTimeouts: registry.counter(
      "lb_client_timeouts_total",
      "Client connections closed by a client timeout, by what was awaited.",
      ["phase"],
    ),
    clientRefused: registry.counter(
      "lb_client_requests_refused_total",
      "Requests the front answered itself because they were malformed, too large or unsupported.",
      ["code"],
    ),
    tunnelsOpen: registry.gauge(
      "lb_tunnels_open",
      "Upgraded connections (WebSocket and others) spliced byte for byte now (h1 front).",
    ).labels(),
    tunnelBytes: registry.counter(
      "lb_tunnel_bytes_total",
      "Bytes relayed through upgraded connections, by direction.",
      ["direction"],
    ),
    mirrorRequests: registry.counter(
      "lb_mirror_requests_total",
      "Copies of requests sent to a mirror pool (answers discarded), by route, pool and result.",
      ["route", "pool", "result"],
    ),
    mirrorInFlight: registry.gauge(
      "lb_mirror_requests_in_flight",
      "Mirrored requests in flight now (at most --mirror-max-in-flight).",
    ).labels(),
    policyDenied: registry.counter(
      "lb_policy_denied_total",
      "Requests a policy answered instead of a backend (ip 403, rate-limit 429, auth 401/403\u2026), by route and policy.",
      ["route", "policy"],
    ),
    rateLimitStoreErrors: registry.counter(
      "lb_rate_limit_store_errors_total",
      "Rate-limit checks the shared store did not answer (local buckets decided), by reason.",
      ["reason"],
    ),
    rateLimitKeys: registry.gauge(
      "lb_rate_limit_keys",
      "Keys held in the local rate-limit tables now (at most max-keys each), by route.",
      ["route"],
    ),
    forwardAuth: registry.counter(
      "lb_forward_auth_requests_total",
      "Forward-auth subrequests, by route and result (allowed, denied, error, timeout).",
      ["route", "result"],
    ),
    compressed: registry.counter(
      "lb_compressed_responses_total",
      "Responses compressed on the way to the client, by route and encoding.",
      ["route", "encoding"],
    ),
    compressionBytes: registry.counter(
      "lb_compression_bytes_total",
      "Response body bytes into (in) and out of (out) compression.",
      ["direction"],
    ),
    compressionBusy: registry.counter(
      "lb_compression_busy_total",
      "Compressible responses sent uncompressed because max-streams compressions were running in the thread, by route.",
      ["route"],
    ),
    spans: registry.counter(
      "lb_trace_spans_total",
      "Trace spans, by result: exported, failed (the collector refused or was unreachable), dropped (queue full).",
      ["result"],
    ),
    requestIds: registry.counter(
      "lb_request_ids_total",
      "Request IDs given to requests, by route and source: kept (from a trusted peer) or generated.",
      ["route", "source"],
    ),
    headerRules: registry.counter(
      "lb_header_rules_total",
      "Messages the header rules edited, by route and side (request, response).",
      ["route", "side"],
    ),
    accessLogEvents: registry.counter(
      "lb_access_log_events_total",
      "Access-log events: reopen (SIGUSR1), error (a write or reopen failed), dropped (lines lost: queue full while the disk stalled, or a failed write).",
      ["event"],
    ),
  };
}

/**
 * Families only the main thread keeps (health, ejections, weights, reloads,
 * workers): with `--workers`, `/metrics` takes these from the main thread
 * and sums every other family over the workers (and the main thread's
 * in-process requests), so no series is counted twice.
 */
export const MAIN_THREAD_FAMILIES: ReadonlySet<string> = new Set([
  "lb_backend_up",
  "lb_backend_ejected",
  "lb_backend_effective_weight",
  "lb_health_transitions_total",
  "lb_health_probes_total",
  "lb_outlier_ejections_total",
  "lb_config_reloads_total",
  "lb_config_last_reload_successful",
  "lb_worker_restarts_total",
]);
