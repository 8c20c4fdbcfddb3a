/**
 * Byte tunnels for upgraded connections on the h1 front. After a backend
 * answers `101 Switching Protocols`, the client's and the backend's sockets
 * are spliced both ways unchanged: WebSocket frames (or any other protocol)
 * pass as bytes, with no message reassembly and no close-code remapping.
 *
 * Each direction has one 64 KiB buffer and reads again only after the last
 * read was written, so a peer that stops reading stalls the other side
 * (TCP backpressure) instead of filling memory. A tunnel with no byte in
 * either direction for the idle timeout is closed. End of stream on one side
 * half-closes the other, so protocols that shut down one direction first
 * keep working.
 *
 * @module
 */

import type { Deadlines, Expiring } from "../../http1/deadlines.ts";
import type { Socket } from "../../http1/connection.ts";

/** One side of a tunnel: its socket and bytes already read past the HTTP head. */
export interface TunnelEnd {
  readonly conn: Socket;
  readonly buffered: Uint8Array;
}

/** How many bytes each direction moved. */
export interface TunnelTotals {
  clientToBackend: number;
  backendToClient: number;
}

const BUFFER = 64 * 1024;

/** A running tunnel; {@link Tunnel.done} settles when both sockets are closed. */
export class Tunnel implements Expiring {
  readonly totals: TunnelTotals = { clientToBackend: 0, backendToClient: 0 };
  readonly done: Promise<TunnelTotals>;
  #closed = false;

  constructor(
    readonly client: TunnelEnd,
    readonly backend: TunnelEnd,
    readonly idle: Deadlines,
    /** Called with each relayed chunk's size, for metrics. */
    readonly onBytes?: (direction: keyof TunnelTotals, n: number) => void,
  ) {
    idle.arm(this);
    this.done = Promise.all([
      this.#pump(client, backend.conn, "clientToBackend"),
      this.#pump(backend, client.conn, "backendToClient"),
    ]).then(() => {
      this.close();
      return this.totals;
    });
  }

  /** The idle timeout passed. */
  expire(): void {
    this.close();
  }

  /** Closes both sockets; pending reads and writes end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.idle.disarm(this);
    for (const conn of [this.client.conn, this.backend.conn]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  async #pump(from: TunnelEnd, to: Socket, direction: keyof TunnelTotals): Promise<void> {
    try {
      if (from.buffered.length > 0) await this.#write(to, from.buffered, direction);
      const buf = new Uint8Array(BUFFER);
      for (;;) {
        const n = await from.conn.read(buf);
        if (n === null) break;
        await this.#write(to, buf.subarray(0, n), direction);
      }
      // This direction ended cleanly: pass the end on, keep the other open.
      await to.closeWrite().catch(() => this.close());
    } catch {
      // A reset or a write to a closed socket ends the whole tunnel.
      this.close();
    }
  }

  async #write(to: Socket, data: Uint8Array, direction: keyof TunnelTotals): Promise<void> {
    this.idle.arm(this);
    let off = 0;
    while (off < data.length) off += await to.write(data.subarray(off));
    this.totals[direction] += data.length;
    this.onBytes?.(direction, data.length);
  }
}
