/**
 * Config file generators for the NGINX and HAProxy processes the benchmark
 * runs: pure functions from ports and paths to config text, so what each
 * reference server does is readable in one place.
 *
 * Every file the servers write (pid, error log, temp dirs) goes under the
 * prefix given, never under `/var` or `/run`, so a run needs no root and
 * leaves nothing behind once the temp dir is removed.
 *
 * @module
 */

/** Size of the `/` body every backend answers with. */
export const SMALL_BODY_BYTES = 100;
/** Size of the `/1m` body and of the `/upload` request body. */
export const LARGE_BODY_BYTES = 1024 * 1024;
/** Size of the `/256m` body and of the `/big-upload` request body. */
export const HUGE_BODY_BYTES = 256 * 1024 * 1024;

/** The `/` body: {@link SMALL_BODY_BYTES} printable bytes ending in a newline. */
export function smallBody(): string {
  return "x".repeat(SMALL_BODY_BYTES - 1) + "\n";
}

/** Size of the `/text` body (the `text` case). */
export const TEXT_BODY_BYTES = 16 * 1024;

const WORDS = (
  "the proxy sends each request to a backend chosen by the pool and copies its answer back " +
  "while health checks watch every member retries go elsewhere and limits keep one client " +
  "from taking all connections routes match host path headers and method in order"
).split(" ");

/**
 * The `/text` body: {@link TEXT_BODY_BYTES} bytes of words in lines, the
 * same every run (a fixed linear congruential sequence picks them). Words
 * rather than one repeated byte, so gzip and brotli do about the work they
 * do on prose or HTML (a ratio of 3-5, not 100).
 */
export function textBody(): string {
  let seed = 12345;
  let out = "";
  let line = "";
  while (out.length < TEXT_BODY_BYTES) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    // The high bits: the low bits of a power-of-two LCG repeat with short periods.
    const word = WORDS[(seed >>> 16) % WORDS.length];
    if (line.length + word.length + 1 > 72) {
      out += line + "\n";
      line = "";
    }
    line += line === "" ? word : ` ${word}`;
  }
  return out.slice(0, TEXT_BODY_BYTES - 1) + "\n";
}

/** The path on every backend that answers a forward-auth check: 204 with {@link AUTH_USER_FIELD}. */
export const AUTH_PATH = "/auth";
/** The field `/auth` answers with (the user, as an auth service names it). */
export const AUTH_USER_FIELD = "x-auth-user";
/** The OTLP/HTTP traces path on every backend: reads the export whole, then 200 `{}`. */
export const OTLP_TRACES_PATH = "/v1/traces";

/** Options for {@link nginxBackendConfig}. */
export interface NginxBackendOptions {
  /** Directory for pid, error log and temp paths. */
  readonly prefix: string;
  /** Directory holding the `1m` and `256m` files. */
  readonly root: string;
  /** The public ports, one `server` block each. */
  readonly ports: readonly number[];
  /**
   * A loopback port for the internal sink `/upload` forwards to (see
   * {@link nginxBackendConfig}); must differ from `ports`.
   */
  readonly sinkPort: number;
  /**
   * The loopback port of the `drain.ts` process that `/big-upload` streams
   * to (see {@link nginxBackendConfig}).
   */
  readonly drainPort: number;
}

/**
 * `events`/`http` settings shared by both NGINX roles; temp paths kept under
 * `prefix`. `worker_connections` is per worker.
 */
function nginxCommon(prefix: string, workers = 1): string {
  return `worker_processes ${workers};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
worker_rlimit_nofile 8192;

events {
  worker_connections 4096;
  multi_accept on;
}
`;
}

function nginxHttpCommon(prefix: string): string {
  return `  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  tcp_nodelay on;
`;
}

/**
 * One NGINX process (no master) serving the three backend ports with
 * `/` (100 bytes), `/1m`, `/text` and `/256m` (files under `root`),
 * `/upload` and `/big-upload`, and two services the edge policies' targets
 * call (policy_configs.ts): `/auth`, a forward-auth service that lets
 * everything through (204 naming a user), and `/v1/traces`, an OTLP/HTTP
 * collector that reads each export whole (like `/upload`, through the sink)
 * and answers `{}`. No other case requests those two.
 *
 * `/upload` must read the whole 1 MiB body before it answers. `return 200`
 * alone does not: NGINX then *discards* the body, answering first and
 * draining the rest afterwards, so a proxy could see the 200 while it is
 * still sending. Proxying, however, always reads the request body first
 * (`ngx_http_read_client_request_body` with request buffering on, into a
 * 2 MiB memory buffer); the body itself is not passed on, only a bodiless
 * request to an internal sink port that answers 200, over a kept-alive
 * connection.
 *
 * `/big-upload` (256 MiB) can be neither buffered that way nor discarded:
 * with `return 200` the early answer reaches the client through the proxy
 * while it is still sending, and proxies then close (the lb's fronts, and
 * NGINX itself, reset the connection under the rest of the body), so the
 * case would measure early-answer handling instead of streaming. It is
 * streamed instead (`proxy_request_buffering off`) to the `drain.ts`
 * process on `drainPort`, which reads the whole body before it answers.
 */
export function nginxBackendConfig(o: NginxBackendOptions): string {
  const body = smallBody().replaceAll("\n", "\\n");
  const servers = o.ports.map((port) => `
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${o.root};
    location = / {
      default_type text/plain;
      return 200 "${body}";
    }
    location = /1m {
      default_type application/octet-stream;
    }
    location = /text {
      default_type text/plain;
    }
    location = ${AUTH_PATH} {
      add_header ${AUTH_USER_FIELD} bench always;
      return 204;
    }
    location = ${OTLP_TRACES_PATH} {
      client_max_body_size 16m;
      client_body_buffer_size 16m;
      proxy_request_buffering on;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Connection "";
      proxy_http_version 1.1;
      proxy_method GET;
      proxy_pass http://upload_sink/otlp;
    }
    location = /256m {
      default_type application/octet-stream;
    }
    location = /big-upload {
      client_max_body_size 0;
      proxy_request_buffering off;
      proxy_set_header Connection "";
      proxy_http_version 1.1;
      proxy_pass http://big_upload_drain;
    }
    location = /upload {
      client_max_body_size 2m;
      client_body_buffer_size 2m;
      proxy_request_buffering on;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Connection "";
      proxy_http_version 1.1;
      proxy_method GET;
      proxy_pass http://upload_sink/sink;
    }
  }`).join("\n");
  return `${nginxCommon(o.prefix)}master_process off;

http {
${nginxHttpCommon(o.prefix)}  sendfile on;
  tcp_nopush on;

  upstream upload_sink {
    server 127.0.0.1:${o.sinkPort};
    keepalive 64;
  }
  upstream big_upload_drain {
    server 127.0.0.1:${o.drainPort};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${o.sinkPort};
    location = /sink {
      default_type text/plain;
      return 200 "ok\\n";
    }
    location = /otlp {
      default_type application/json;
      return 200 "{}";
    }
  }
${servers}
}
`;
}

/** Options for {@link nginxProxyConfig} and {@link haproxyConfig}. */
export interface ProxyOptions {
  /** Listen port on 127.0.0.1. */
  readonly port: number;
  /** Upstream `host:port` addresses, balanced round-robin. */
  readonly upstreams: readonly string[];
}

/** PEM file paths for a TLS listener. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Options for {@link nginxProxyConfig}. */
export interface NginxProxyOptions extends ProxyOptions {
  /** Serve HTTPS with HTTP/2 by ALPN from these files. */
  readonly tls?: TlsFiles;
  /**
   * `worker_processes` (1). Above 1 the listener also gets `reuseport`: one
   * socket per worker, the kernel spreading connections over them by hash,
   * which is how the lb's `--workers` shares its port, so both are measured
   * with the same way of dividing connections.
   */
  readonly workers?: number;
}

/**
 * NGINX as a round-robin reverse proxy (one worker unless `workers` says
 * otherwise; each has its own kept-alive upstream connections). Request bodies stream (`proxy_request_buffering off`), like
 * the lb's, with no size limit (the `big-upload` case sends 256 MiB);
 * responses use NGINX's usual memory buffers but never spill to temp files
 * (`proxy_max_temp_file_size 0`), so no disk I/O is measured.
 *
 * With `tls`, the listener is HTTPS with HTTP/2 by ALPN (`listen … ssl
 * http2`, the NGINX 1.22 syntax); the upstream side stays HTTP/1.1 with
 * keepalive. `keepalive_requests` (1,000,000, shared with the HTTP/1.1
 * listener) also caps the requests per HTTP/2 connection since NGINX
 * 1.19.7, so h2load's 16 connections are never cut short.
 */
export function nginxProxyConfig(prefix: string, o: NginxProxyOptions): string {
  const workers = o.workers ?? 1;
  const servers = o.upstreams.map((u) => `    server ${u};`).join("\n");
  const reuse = workers > 1 ? " reuseport" : "";
  const listen = o.tls
    ? `listen 127.0.0.1:${o.port} ssl http2 backlog=4096${reuse};
    ssl_certificate ${o.tls.certFile};
    ssl_certificate_key ${o.tls.keyFile};`
    : `listen 127.0.0.1:${o.port} backlog=4096${reuse};`;
  return `${nginxCommon(prefix, workers)}
http {
${nginxHttpCommon(prefix)}
  upstream backends {
${servers}
    keepalive 64;
  }
  server {
    ${listen}
    client_max_body_size 0;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_request_buffering off;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/**
 * HAProxy with one thread, HTTP mode, round-robin, idle upstream connections
 * shared between clients (`http-reuse always`), no logging.
 */
export function haproxyConfig(o: ProxyOptions): string {
  const servers = o.upstreams.map((u, i) => `  server s${i + 1} ${u}`).join("\n");
  return `global
  nbthread 1
  # Without maxconn HAProxy sizes itself from the descriptor limit; 4096
  # (about 8,200 descriptors) covers 1,000 clients plus their upstreams.
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  timeout http-request 30s

frontend fe
  bind 127.0.0.1:${o.port}
  default_backend be

backend be
  balance roundrobin
${servers}
`;
}

/**
 * The `lb-routes` target's config file: ten routes on the one pool
 * (`default`, from `--backends`), where wrk's requests (`GET /` to
 * 127.0.0.1) miss the first nine — hosts, path prefixes, headers, a method
 * and a query — and match the last. So every request pays for the whole
 * table: the worst case of a ten-route config.
 */
export const TEN_ROUTES = {
  routes: [
    { name: "api-host", match: { host: "api.example.com" }, pool: "default" },
    { name: "tenants", match: { host: "*.tenants.example.com" }, pool: "default" },
    {
      name: "admin-host",
      match: { host: ["admin.example.com", "ops.example.com"] },
      pool: "default",
    },
    { name: "v1", match: { "path-prefix": "/v1" }, pool: "default", "strip-prefix": "/v1" },
    { name: "static", match: { "path-prefix": ["/static", "/assets"] }, pool: "default" },
    { name: "health", match: { path: "/healthz" }, pool: "default" },
    { name: "beta", match: { headers: { "x-beta": "1" } }, pool: "default" },
    { name: "grpc", match: { headers: { "content-type": "application/grpc" } }, pool: "default" },
    {
      name: "uploads",
      match: { method: ["POST", "PUT"], "path-prefix": "/upload" },
      pool: "default",
    },
    { name: "everything", match: {}, pool: "default" },
  ],
} as const;
