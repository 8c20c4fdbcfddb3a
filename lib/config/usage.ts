/**
 * The text of `lb --help`.
 *
 * @module
 */

import { DEFAULT_BACKENDS } from "./parse.ts";
import { LOG_LEVELS } from "../core/logging.ts";
import { STRATEGY_NAMES, TRANSPORT_NAMES } from "./names.ts";

/** Usage text for `lb --help`. */
export const LB_USAGE = `lb — an HTTP load balancer

Usage: lb [flags]

Flags (flag > environment variable > default):
  --port N                 listen port (PROXY_PORT, 8080; 0 picks a free port)
  --host ADDR              listen address (PROXY_HOST, 0.0.0.0)
  --backends LIST          comma-separated http(s)://host:port (BACKENDS,
                           ${DEFAULT_BACKENDS})
  --strategy NAME          ${STRATEGY_NAMES.join(" | ")} (LB_STRATEGY, round-robin)
  --transport NAME         upstream client: ${TRANSPORT_NAMES.join(" | ")} (${TRANSPORT_NAMES[0]})
  --health-interval D      time between TCP health probes (5s)
  --health-timeout D       time a probe may take (1s)
  --health-rise N          consecutive passes to mark a backend up (2)
  --health-fall N          consecutive failures to mark a backend down (3)
  --connect-timeout D      time to connect to a backend (5s)
  --response-timeout D     time to a backend's response headers (60s)
  --idle-timeout D         how long an idle pooled connection is kept (30s)
  --retries N              extra attempts on other backends (2)
  --shutdown-delay D       keep serving after readiness fails on SIGTERM (0s)
  --shutdown-timeout D     time in-flight requests get to finish (30s)
  --admin-port N           admin listener port (ADMIN_PORT, 9901)
  --admin-host ADDR        admin listener address (ADMIN_HOST, 127.0.0.1)
  --trust-proxy LIST       CIDRs whose X-Forwarded-*/Forwarded headers are kept (none)
  --log-level LEVEL        ${LOG_LEVELS.join(" | ")} (LOG_LEVEL, info)
  --log-format FORMAT      text | json (text)
  --access-log             log every request (off)

Balancing and resilience (see README for each default):
  --hash-key, --sticky-cookie, --sticky-secret (STICKY_SECRET), --ewma-decay,
  --slow-start, --health-path, --health-status, --health-host,
  --health-down-interval, --eject-after, --eject-on-5xx, --eject-time,
  --max-ejection-percent, --retry-budget, --retry-budget-min, --try-timeout,
  --retry-buffer, --max-connections-per-backend, --queue-timeout,
  --upstream-connections

Operations:
  --config FILE            JSON config file (LB_CONFIG); reloaded on SIGHUP and on change
  --check                  validate the configuration and exit (0, or 2 with every problem)
  --admin-token TOKEN      bearer token for the admin API's changes (ADMIN_TOKEN)
  --discover LIST          dns:NAME[:PORT] and/or srv:_http._tcp.NAME
  --discover-interval D    re-resolve this often, or at the record TTL (10s)
  --dns-server IP:PORT     resolver for discovery (the system's)
  --tls-cert FILE          PEM certificate chain: serve HTTPS (HTTP/2 by ALPN) (none)
  --tls-key FILE           PEM private key for --tls-cert (none)
  --backend-ca FILE        PEM CAs https:// backends are verified against, besides the defaults
  --ws-idle-timeout D      close WebSocket tunnels quiet this long (5m)
  --ws-max-buffer SIZE     bytes queued toward a slow WebSocket peer before closing (1MiB)

Front door (client connections):
  --front NAME             plain-HTTP server: h1 (ours, on Deno.listen) | deno-serve (h1);
                           TLS always uses Deno.serve (HTTP/2 by ALPN)
  --client-header-timeout D  the whole request head must arrive within this, else 408 (10s)
  --client-idle-timeout D    close a keep-alive connection idle this long (60s)
  --client-body-timeout D    longest wait for a request body byte or a reply write (60s)
  --max-client-connections N most client connections; more are closed at once
                           (auto: the open-file limit less room for upstream sockets)
  --proxy-protocol         require a PROXY v1/v2 header from --trust-proxy sources (off)
  --help, --version

Durations take ms, s, m or h suffixes: 250ms, 5s, 1m.
`;
