/**
 * A backend as configured: an immutable value (Pingora's `Backend`), shared
 * by config, discovery, the pool and the transports. Its runtime state lives
 * in the pool layer's `Backend`.
 *
 * @module
 */

/** One upstream server, as configured. */
export interface BackendSpec {
  /** Canonical origin, e.g. `http://127.0.0.1:8081`; also the backend's id and metric label. */
  readonly origin: string;
  /**
   * HTTPS backend (`https://` origin): TLS with certificate verification,
   * SNI from `hostname`. Absent means false (specs built outside
   * `parseBackends`, e.g. by discovery, are plain HTTP).
   */
  readonly tls?: boolean;
  /** Host name or IP literal (IPv6 without brackets), for connecting. */
  readonly hostname: string;
  /** TCP port, 1-65535; the scheme's default (80, or 443 for `https://`) when the URL has none. */
  readonly port: number;
  /** Relative share of traffic, 1-1000 (`http://host:port=3`); 1 by default. */
  readonly weight: number;
  /** Free-form labels from the config file, shown in `/status`. */
  readonly metadata?: Readonly<Record<string, string>>;
}
