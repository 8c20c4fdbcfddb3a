/**
 * One open WebSocket tunnel: relays messages between the client's socket
 * (from `Deno.upgradeWebSocket`) and the lb's socket to the backend, carries
 * close codes across, and bounds idle and slow peers. See `websocket.ts` for
 * how tunnels are opened and for the close-code mapping.
 *
 * @module
 */

import type { WebSocketConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";

/** Why a tunnel ended; the `reason` label of `lb_websocket_tunnels_closed_total`. */
export type TunnelEnd =
  | "client_closed"
  | "client_gone"
  | "backend_closed"
  | "backend_gone"
  | "idle_timeout"
  | "buffer_overflow"
  | "shutdown";

/**
 * The code to close the lb's client socket toward the backend with, for a
 * code the client closed with: Deno's client socket (like a browser's)
 * accepts only 1000 and 3000-4999, so 1001-1015 become 4001-4015.
 * Undefined for 1005 (the client sent no code): the backend gets none either.
 */
export function closeCodeToBackend(code: number): number | undefined {
  if (code === 1005) return undefined;
  if (code === 1000 || (code >= 3000 && code <= 4999)) return code;
  return 4000 + (code % 1000);
}

/** Open tunnels, so shutdown can wait for them and then close them. */
export class TunnelSet {
  readonly #open = new Set<Tunnel>();
  #emptied: (() => void) | undefined;
  #draining = false;

  /** Tunnels open now. */
  get size(): number {
    return this.#open.size;
  }

  /** True once {@link TunnelSet.drain} was called: new upgrades get 503. */
  get draining(): boolean {
    return this.#draining;
  }

  /** @internal */
  add(t: Tunnel): void {
    this.#open.add(t);
  }

  /** @internal */
  delete(t: Tunnel): void {
    this.#open.delete(t);
    if (this.#open.size === 0) this.#emptied?.();
  }

  /**
   * Refuses new tunnels, waits up to `timeoutMs` for the open ones to end,
   * then closes what is left (1001 to clients). Resolves true when none had
   * to be cut.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#open.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      new Promise<true>((resolve) => this.#emptied = () => resolve(true)),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    for (const t of [...this.#open]) t.shutdown();
    return done;
  }
}

/** What a tunnel needs. */
export interface TunnelDeps {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  readonly config: WebSocketConfig;
  readonly tunnels: TunnelSet;
}

type Data = string | ArrayBuffer;

/** A relay between two open (or opening) sockets; it registers itself in `deps.tunnels`. */
export class Tunnel {
  readonly #client: WebSocket;
  readonly #backend: WebSocket;
  /** The backend's id, for logs. */
  readonly #backendId: string;
  /** Ends the backend's part in the request (its in-flight count, its slot). */
  readonly #release: () => void;
  readonly #deps: TunnelDeps;
  /** Work for the client socket queued until it opens. */
  #pending: (() => void)[] | null = [];
  #ended = false;
  #lastActivity = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #backendSpoke = false;
  /** The client's code and what it became toward the backend, when it had to be mapped. */
  #mapped: { readonly from: number; readonly to: number } | undefined;

  constructor(
    client: WebSocket,
    backendSocket: WebSocket,
    backend: { readonly id: string; release(): void },
    deps: TunnelDeps,
  ) {
    this.#client = client;
    this.#backend = backendSocket;
    this.#backendId = backend.id;
    this.#release = backend.release;
    this.#deps = deps;
    client.binaryType = "arraybuffer";
    backendSocket.binaryType = "arraybuffer";
    const { metrics } = deps;
    const up = "client_to_backend";
    const down = "backend_to_client";
    const counters = {
      up: [metrics.wsMessages.labels(up), metrics.wsBytes.labels(up)] as const,
      down: [metrics.wsMessages.labels(down), metrics.wsBytes.labels(down)] as const,
    };
    client.onopen = () => {
      const pending = this.#pending ?? [];
      this.#pending = null;
      for (const run of pending) run();
    };
    client.onmessage = (e: MessageEvent<Data>) => {
      this.#lastActivity = performance.now();
      counters.up[0].inc();
      counters.up[1].inc(byteLength(e.data));
      this.#relay(this.#backend, e.data);
    };
    backendSocket.onmessage = (e: MessageEvent<Data>) => {
      this.#lastActivity = performance.now();
      this.#backendSpoke = true;
      counters.down[0].inc();
      counters.down[1].inc(byteLength(e.data));
      this.#toClient(() => this.#relay(this.#client, e.data));
    };
    client.onclose = (e) => this.#clientClosed(e);
    backendSocket.onclose = (e) => this.#backendClosed(e);
    // An error is always followed by a close event; that is where it is handled.
    client.onerror = backendSocket.onerror = (e) => e.preventDefault();
    deps.tunnels.add(this);
    metrics.wsTunnelsOpen.inc();
    this.#armIdle(deps.config.idleTimeoutMs);
  }

  /** Closes both sides because the lb is shutting down (1001, "going away"). */
  shutdown(): void {
    this.#end("shutdown", 1001, "lb shutting down");
  }

  #toClient(run: () => void): void {
    if (this.#pending) this.#pending.push(run);
    else run();
  }

  #relay(to: WebSocket, data: Data): void {
    // Not `#ended`: messages queued before a close must still go out first.
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data);
    if (to.bufferedAmount > this.#deps.config.maxBufferedBytes) {
      this.#end("buffer_overflow", 1008, "peer too slow");
    }
  }

  #clientClosed(e: CloseEvent): void {
    if (this.#ended) return;
    if (!e.wasClean || e.code === 1006) {
      this.#finish("client_gone");
      close(this.#backend, 4001, "client went away");
      return;
    }
    this.#finish("client_closed");
    const to = closeCodeToBackend(e.code);
    if (to !== undefined && to !== e.code) this.#mapped = { from: e.code, to };
    close(this.#backend, to, e.reason);
  }

  #backendClosed(e: CloseEvent): void {
    if (this.#ended) return;
    if (!e.wasClean || e.code === 1006 || e.code === 1015) {
      this.#finish("backend_gone");
      const code = this.#backendSpoke ? 1011 : 1014;
      this.#toClient(() => close(this.#client, code, "backend connection lost"));
      return;
    }
    this.#finish("backend_closed");
    const code = this.#mapped?.to === e.code ? this.#mapped.from : e.code;
    this.#toClient(() => close(this.#client, code === 1005 ? undefined : code, e.reason));
  }

  /** Ends the tunnel on the lb's initiative: `code` to the client, its mapping to the backend. */
  #end(why: TunnelEnd, code: number, reason: string): void {
    if (this.#ended) return;
    this.#finish(why);
    this.#toClient(() => close(this.#client, code, reason));
    close(this.#backend, closeCodeToBackend(code), reason);
  }

  #finish(why: TunnelEnd): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    const { metrics, log, tunnels } = this.#deps;
    metrics.wsTunnelsOpen.dec();
    metrics.wsTunnelsClosed.labels(why).inc();
    this.#release();
    tunnels.delete(this);
    log.debug("WebSocket tunnel to {backend} ended: {why}", {
      backend: this.#backendId,
      why,
    });
  }

  /**
   * One timer per tunnel, re-armed only when it fires: resetting a timer on
   * every message would cost more than the relay itself.
   */
  #armIdle(delayMs: number): void {
    this.#timer = setTimeout(() => {
      const idle = performance.now() - this.#lastActivity;
      const limit = this.#deps.config.idleTimeoutMs;
      if (idle >= limit) this.#end("idle_timeout", 1001, "idle timeout");
      else this.#armIdle(limit - idle);
    }, delayMs);
  }
}

/** Closes `socket` if it is not closing already; a code Deno refuses is logged, not thrown. */
function close(socket: WebSocket, code: number | undefined, reason?: string): void {
  if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
  try {
    if (code === undefined) socket.close();
    else socket.close(code, reason);
  } catch {
    socket.close(1000);
  }
}

/** Payload bytes of a message: UTF-8 length for text, counted without encoding it. */
function byteLength(data: Data): number {
  if (typeof data !== "string") return data.byteLength;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    // Each half of a surrogate pair counts 2: a pair is 4 bytes.
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}
