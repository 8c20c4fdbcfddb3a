/**
 * A protocol switch on the h1 front: after the core answers
 * `101 Switching Protocols` with the backend's socket, the 101 goes to the
 * client and the two sockets are spliced as a byte {@link Tunnel} until
 * either side ends it. Its own module because from here on the connection
 * is no longer HTTP: no further request is read, and the exchange is
 * finished with the bytes the tunnel carried back.
 *
 * @module
 */

import type { Connection } from "../../http1/connection.ts";
import type { ProxyReply } from "../../core/message.ts";
import type { ProxyExchange } from "../../proxy/handler.ts";
import type { FrontContext } from "./context.ts";
import { type ReplySink, writeReply } from "./reply_writer.ts";
import { Tunnel } from "./tunnel.ts";

/** What switching protocols needs from its connection (a ClientConnection). */
export interface UpgradeSink extends ReplySink {
  /** The client's socket and read buffer; detached for the tunnel. */
  readonly c: Connection;
  /** What the connection shares with its server: the tunnel idle timeout and metrics. */
  readonly ctx: FrontContext;
  /** The socket now belongs to `tunnel`: closing the connection must close it. */
  tunnelling(tunnel: Tunnel): void;
}

/**
 * Writes the 101 `reply` (whose `upgrade` is set) and splices the client's
 * socket with the backend's. Resolves false once the tunnel has closed: the
 * connection can carry no other request.
 */
export async function tunnelUpgrade(
  sink: UpgradeSink,
  reply: ProxyReply,
  exchange: ProxyExchange,
): Promise<false> {
  const sent = await writeReply(sink, "GET", 1, reply, false);
  const upstream = reply.upgrade!;
  if (!sent.reusable) {
    upstream.conn.close();
    exchange.finish(0);
    return false;
  }
  const c = sink.c;
  const buffered = c.buf.slice(c.start, c.end);
  c.start = c.end;
  const conn = c.detach();
  const tunnel = new Tunnel(
    { conn, buffered },
    upstream,
    sink.ctx.tunnelIdle,
    sink.ctx.metrics.tunnelBytes,
  );
  sink.tunnelling(tunnel);
  sink.ctx.metrics.tunnels(1);
  const totals = await tunnel.done;
  sink.ctx.metrics.tunnels(-1);
  exchange.finish(totals.backendToClient);
  return false;
}
