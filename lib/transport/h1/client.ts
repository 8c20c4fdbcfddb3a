/**
 * The fast upstream transport: an HTTP/1.1 client written directly on
 * `Deno.connect` (and `Deno.startTls` for `https://` backends), owning its
 * sockets. Keep-alive pool per backend, strict
 * response parsing (`head.ts`, `chunked.ts`), bodies streamed with
 * backpressure (the socket is read only as the client consumes), small
 * bodies handed over as bytes so `Deno.serve` can send them in one go.
 *
 * @module
 */

import {
  ClientAbortError,
  type Transport,
  type TransportOptions,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
} from "../../core/transport.ts";
import { Connection } from "../../http1/connection.ts";
import { Deadlines } from "../../http1/deadlines.ts";
import { Exchange, StaleConnection } from "./exchange.ts";
import { ConnectionPool } from "./pool.ts";
import { Slots } from "./slots.ts";

/** An HTTP/1.1 client on `Deno.connect`. */
export class H1Transport implements Transport {
  readonly tunnels = true;
  readonly #options: TransportOptions;
  readonly #pool: ConnectionPool;
  readonly #deadlines: Deadlines;
  readonly #slots: Slots<Connection>;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#deadlines = new Deadlines(options.responseTimeoutMs);
    const configured = options.maxConnectionsPerBackend;
    const cap = configured === 0 ? Number.MAX_SAFE_INTEGER : configured;
    this.#slots = new Slots<Connection>(cap, options.connectTimeoutMs);
    this.#pool = new ConnectionPool({
      maxIdlePerKey: Math.min(cap, 1024),
      idleTimeoutMs: options.idleTimeoutMs,
    });
  }

  async request(target: UpstreamTarget, req: UpstreamRequest): Promise<UpstreamResponse> {
    if (req.signal.aborted) throw new ClientAbortError();
    // One retry on a fresh connection when a pooled one turns out to be dead.
    const key = target.origin;
    for (let fresh = false;; fresh = true) {
      // A warm pooled connection is the common case: take it without an await.
      const pooled = fresh ? undefined : this.#pool.take(key);
      const { c, reused } = pooled
        ? { c: pooled, reused: true }
        : await this.#acquire(target, req.signal);
      try {
        return await new Exchange(c, req, this.#deadlines, reused, (done) => {
          if (!done) c.close();
          else if (!this.#slots.handOver(key, c)) this.#pool.put(key, c);
        }).run();
      } catch (err) {
        if (err instanceof StaleConnection && !fresh) continue;
        throw err;
      }
    }
  }

  /** A new connection if under the cap, else one from the queue. */
  async #acquire(
    target: UpstreamTarget,
    signal: AbortSignal,
  ): Promise<{ c: Connection; reused: boolean }> {
    const key = target.origin;
    if (!this.#slots.tryTake(key)) {
      const grant = await this.#slots.wait(key, signal);
      if ("conn" in grant) return { c: grant.conn, reused: true };
    }
    try {
      return { c: await this.#dial(target, signal, () => this.#slots.release(key)), reused: false };
    } catch (err) {
      this.#slots.release(key);
      throw err;
    }
  }

  close(): Promise<void> {
    this.#pool.close();
    this.#deadlines.stop();
    this.#slots.stop();
    return Promise.resolve();
  }

  async #dial(
    target: UpstreamTarget,
    signal: AbortSignal,
    onClose: () => void,
  ): Promise<Connection> {
    const timeout = AbortSignal.timeout(this.#options.connectTimeoutMs);
    try {
      const connectSignal = AbortSignal.any([signal, timeout]);
      const tcp = await Deno.connect({
        hostname: target.hostname,
        port: target.port,
        transport: "tcp",
        signal: connectSignal,
      });
      tcp.setNoDelay(true);
      if (!target.tls) return new Connection(tcp, onClose);
      return new Connection(await this.#handshake(tcp, target, connectSignal), onClose);
    } catch (err) {
      if (signal.aborted) throw new ClientAbortError();
      if (timeout.aborted) throw new UpstreamError("connect_timeout", "connect timed out");
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof Deno.errors.ConnectionRefused) {
        throw new UpstreamError("connect_refused", message);
      }
      throw new UpstreamError("connect_error", message);
    }
  }

  /**
   * TLS over an open TCP connection. `Deno.startTls` (like `connectTls`)
   * sends `hostname` as SNI (not for IP literals, RFC 6066 §3) and verifies
   * the certificate against it; `caCerts` are added to the root store
   * (Mozilla's bundled roots, or the system's with DENO_TLS_CA_STORE=system),
   * they do not replace it. A failed verification is a connect error: nothing
   * was sent, so another backend may be tried. The handshake has no signal,
   * so the connect deadline closes the socket to cut it short.
   */
  async #handshake(
    tcp: Deno.TcpConn,
    target: UpstreamTarget,
    signal: AbortSignal,
  ): Promise<Deno.TlsConn> {
    const onAbort = () => tcp.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const tls = await Deno.startTls(tcp, {
        hostname: target.hostname,
        caCerts: this.#options.caCerts ? [...this.#options.caCerts] : undefined,
      });
      await tls.handshake();
      return tls;
    } catch (err) {
      if (!signal.aborted) {
        try {
          tcp.close();
        } catch { /* startTls took ownership and already closed it */ }
      }
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}
