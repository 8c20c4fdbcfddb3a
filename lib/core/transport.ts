/**
 * The upstream client interface. The proxy hands a transport a request whose
 * headers are already rewritten; the transport owns sockets, pooling and the
 * connect and response-header timeouts, and reports failures as
 * {@link UpstreamError}s that say whether the request may have reached the
 * backend (the fact retry decisions need).
 *
 * @module
 */

/** Header fields as `[lower-case name, value]` pairs, in order, duplicates kept. */
export type HeaderPairs = [string, string][];

/** The value of the first field called `name` (lower-case), or undefined. */
export function headerValue(fields: HeaderPairs, name: string): string | undefined {
  for (let i = 0; i < fields.length; i++) if (fields[i][0] === name) return fields[i][1];
  return undefined;
}

/** Where to send a request. */
export interface UpstreamTarget {
  /** `http://host:port` or `https://host:port`, for logs and as the pool key. */
  readonly origin: string;
  /** Host name or IP literal (IPv6 without brackets) to connect to; also the TLS name. */
  readonly hostname: string;
  /** TCP port to connect to. */
  readonly port: number;
  /**
   * Speak TLS to the backend (an `https://` origin): the certificate is
   * always verified, against `hostname`, which is also sent as SNI. Plain
   * TCP when absent or false.
   */
  readonly tls?: boolean;
}

/** A request ready to send: origin-form target, rewritten headers, streaming body. */
export interface UpstreamRequest {
  /** The request method, sent as it is. */
  readonly method: string;
  /** Origin-form target: path and query, e.g. `/a/b?c=1`. */
  readonly path: string;
  /** Headers to send as they are (hop-by-hop already removed, `Host` kept). */
  readonly headers: HeaderPairs;
  /**
   * The body: a stream, read only once the connection is open; bytes kept
   * whole (in the retry buffer), which may be sent again; or null.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Aborts the exchange (the client went away). */
  readonly signal: AbortSignal;
}

/** A response head and its streaming body. */
export interface UpstreamResponse {
  /** The status code as received; the proxy refuses any outside 200-599 except an expected 101. */
  readonly status: number;
  /** Headers as received, names lower-cased, hop-by-hop ones included (the proxy strips them). */
  readonly headers: HeaderPairs;
  /**
   * Null for HEAD requests and 204/304 responses; a small body already read
   * may come as bytes. Cancel a stream to abandon the exchange.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  /**
   * Set for a `101 Switching Protocols` answer to a request that asked to
   * upgrade: the raw connection, now the caller's to use and close, and any
   * bytes the backend already sent past the 101 head.
   */
  readonly upgrade?: UpgradedConnection;
}

/** A connection to a backend: TCP, or TLS for an `https://` one. */
export type UpstreamConn = Deno.TcpConn | Deno.TlsConn;

/** A connection handed over after `101 Switching Protocols`. */
export interface UpgradedConnection {
  /** The backend's socket, past the 101 head; whoever holds it closes it. */
  readonly conn: UpstreamConn;
  /** Bytes received after the response head, to be processed before reading `conn`. */
  readonly buffered: Uint8Array;
}

/** Timeouts a transport enforces. */
export interface TransportOptions {
  readonly connectTimeoutMs: number;
  /** From the request being sent to the response headers arriving. */
  readonly responseTimeoutMs: number;
  /** How long an idle pooled connection is kept. */
  readonly idleTimeoutMs: number;
  /**
   * Extra PEM CA certificates (`--backend-ca`) trusted for `https://`
   * backends, in addition to the default roots (never instead of them).
   */
  readonly caCerts?: readonly string[];
  /**
   * Most connections the transport opens to one backend (`--upstream-connections`);
   * more requests wait for a free one. 0 means no limit. `h1` honours it.
   */
  readonly maxConnectionsPerBackend: number;
}

/** An HTTP client for upstream requests. */
export interface Transport {
  /**
   * Whether a `101 Switching Protocols` answer hands the raw connection over
   * (see {@link UpstreamResponse.upgrade}). Without it, a front ignores a
   * client's `Upgrade` offer, as RFC 9110 §7.8 allows.
   */
  readonly tunnels?: boolean;
  /** Sends one request. Rejects with an {@link UpstreamError} or the signal's reason. */
  request(target: UpstreamTarget, req: UpstreamRequest): Promise<UpstreamResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/**
 * Kinds of upstream failure. `connect_*` never reached the backend, and
 * `pool_timeout` (no connection to it became free in time: the lb's own
 * congestion, not the backend's fault) never left the lb; the rest may have.
 */
export type UpstreamErrorKind =
  | "connect_refused"
  | "connect_timeout"
  | "connect_error"
  | "pool_timeout"
  | "reset"
  | "response_timeout"
  | "protocol";

const NOT_SENT: ReadonlySet<UpstreamErrorKind> = new Set([
  "connect_refused",
  "connect_timeout",
  "connect_error",
  "pool_timeout",
]);

/** A failed upstream exchange. */
export class UpstreamError extends Error {
  /** Whether any byte of the request may have reached the backend. */
  readonly mayHaveReached: boolean;
  /** Whether the failure says the backend can't be reached (a `connect_*` kind): it is then marked down. */
  readonly unreachable: boolean;

  /** `kind` classifies the failure and sets both flags; `message` and `options` as for `Error`. */
  constructor(readonly kind: UpstreamErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UpstreamError";
    this.mayHaveReached = !NOT_SENT.has(kind);
    this.unreachable = kind.startsWith("connect_");
  }
}

/** The client went away; there is nobody to answer. */
export class ClientAbortError extends Error {
  constructor() {
    super("client closed the request");
    this.name = "ClientAbortError";
  }
}
