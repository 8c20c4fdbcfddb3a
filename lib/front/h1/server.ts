/**
 * The h1 front: our own HTTP/1.1 server on `Deno.listen`, in place of
 * `Deno.serve` for plain HTTP. It exists for what `Deno.serve` can't do
 * (denoland/deno#3515): a deadline on every wait for a client, a cap on
 * client connections, PROXY protocol, upgrades as byte tunnels, and a
 * request path with no `Request`/`Response` objects.
 *
 * Past `--max-client-connections` a new connection is accepted and closed
 * at once (counted), so the listen queue never fills and the connections
 * already open keep working.
 *
 * @module
 */

import { type Cidr, ipInRanges } from "../../core/cidr.ts";
import { Deadlines } from "../../http1/deadlines.ts";
import type { Logger } from "../../core/logging.ts";
import type { LbMetrics } from "../../metrics/lb_metrics.ts";
import type { ProxyCore } from "../../proxy/handler.ts";
import { ClientConnection } from "./client_conn.ts";
import { type FrontContext, type FrontMetrics, Phase, PHASE_NAMES } from "./context.ts";

/** Client-side timeouts, in milliseconds. */
export interface ClientTimeouts {
  /** The whole request head must arrive within this (else 408 and close). */
  readonly headerMs: number;
  /** Longest wait for the next request on a kept-alive connection. */
  readonly idleMs: number;
  /** Longest wait for a byte of the request body, or for a write of the reply to progress. */
  readonly bodyMs: number;
}

/** What the h1 front needs. */
export interface H1FrontOptions {
  readonly hostname: string;
  readonly port: number;
  /** Share the port with other listeners (worker threads; Linux, `--unstable-net`). */
  readonly reusePort?: boolean;
  readonly core: () => ProxyCore;
  readonly timeouts: ClientTimeouts;
  /** Most client connections open at once. */
  readonly maxConnections: number;
  /** When set, every connection must start with a PROXY header, and only from these sources. */
  readonly proxyProtocolFrom?: readonly Cidr[];
  /** Idle timeout of upgrade tunnels. */
  readonly tunnelIdleMs: number;
  readonly metrics: LbMetrics;
  readonly log: Logger;
}

/** A running h1 front. */
export class H1Front {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #open = new Set<ClientConnection>();
  /** Ticks each phase's timeout spans, indexed by Phase (0: none). */
  readonly #spans: number[];
  #tick = 1;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #tunnelIdle: Deadlines;
  readonly #options: H1FrontOptions;
  readonly #accepting: Promise<void>;
  #draining = false;
  #emptied: (() => void) | undefined;

  constructor(options: H1FrontOptions) {
    this.#options = options;
    const t = options.timeouts;
    // One coarse clock for every client deadline: a connection arms one by
    // writing the tick it expires at, so entering a phase costs a field
    // write, and each tick looks at every open connection once. A deadline
    // fires between its time and one tick later.
    const tickMs = Math.max(
      10,
      Math.min(250, Math.floor(Math.min(t.headerMs, t.idleMs, t.bodyMs) / 8)),
    );
    const span = (ms: number) => Math.ceil(ms / tickMs) + 1; // +1: this tick is partly over
    // Indexed by Phase; Busy has no client deadline (the backend's timeouts apply).
    this.#spans = [span(t.headerMs), span(t.idleMs), span(t.bodyMs), span(t.bodyMs), 0];
    this.#timer = setInterval(() => this.#onTick(), tickMs);
    Deno.unrefTimer(this.#timer as unknown as number);
    this.#tunnelIdle = new Deadlines(options.tunnelIdleMs);
    this.#listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
      // Only when asked: the option itself exits the process without --unstable-net.
      ...(options.reusePort && { reusePort: true }),
    });
    this.addr = this.#listener.addr;
    this.#accepting = this.#accept(this.#context());
  }

  /** Client connections open now. */
  get connections(): number {
    return this.#open.size;
  }

  #context(): FrontContext {
    const m = this.#options.metrics;
    // Tunnel bytes are counted per relayed chunk: look the two series up once.
    const toBackend = m.tunnelBytes.labels("client_to_backend");
    const toClient = m.tunnelBytes.labels("backend_to_client");
    const metrics: FrontMetrics = {
      timeout: (phase) => m.clientTimeouts.labels(PHASE_NAMES[phase]).inc(),
      rejected: (reason) => m.clientRejected.labels(reason).inc(),
      badRequest: (status) => m.clientRefused.labels(String(status)).inc(),
      tunnelBytes: (direction, n) =>
        (direction === "clientToBackend" ? toBackend : toClient).inc(n),
      tunnels: (delta) => m.tunnelsOpen.inc(delta),
    };
    return {
      core: this.#options.core,
      dueTick: (phase) => phase === Phase.Busy ? 0 : this.#tick + this.#spans[phase],
      tunnelIdle: this.#tunnelIdle,
      proxyProtocol: this.#options.proxyProtocolFrom !== undefined,
      draining: () => this.#draining,
      log: this.#options.log,
      metrics,
      closed: (conn) => {
        if (!this.#open.delete(conn as ClientConnection)) return;
        m.clientConnections.dec();
        if (this.#open.size === 0) this.#emptied?.();
      },
    };
  }

  #onTick(): void {
    const now = ++this.#tick;
    for (const conn of this.#open) if (conn.due !== 0 && conn.due <= now) conn.expire();
  }

  async #accept(ctx: FrontContext): Promise<void> {
    const { maxConnections, proxyProtocolFrom, metrics } = this.#options;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#draining || err instanceof Deno.errors.BadResource) return;
        // EMFILE and the like: the process is out of descriptors; back off briefly.
        this.#options.log.warning("accept failed: {error}", { error: String(err) });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (this.#open.size >= maxConnections) {
        metrics.clientRejected.labels("limit").inc();
        conn.close();
        continue;
      }
      if (proxyProtocolFrom && !ipInRanges(ip, proxyProtocolFrom)) {
        // PROXY headers are believed only from the proxies that send them.
        metrics.clientRejected.labels("proxy_protocol").inc();
        conn.close();
        continue;
      }
      conn.setNoDelay(true);
      const client = new ClientConnection(conn, ctx, ip);
      this.#open.add(client);
      metrics.clientConnections.inc();
      client.run();
    }
  }

  /**
   * Stops accepting, closes connections between requests, and lets the
   * others finish their request (their replies say `Connection: close`).
   * Resolves true when all closed within `timeoutMs`; the rest are then cut.
   */
  async shutdown(timeoutMs: number): Promise<boolean> {
    if (!this.#draining) {
      this.#draining = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    for (const conn of this.#open) if (conn.idle) conn.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = this.#open.size === 0 || await new Promise<boolean>((resolve) => {
      this.#emptied = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    for (const conn of this.#open) conn.close();
    clearInterval(this.#timer);
    this.#tunnelIdle.stop();
    return drained;
  }
}
