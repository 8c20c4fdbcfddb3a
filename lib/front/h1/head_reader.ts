/**
 * What a client connection on the h1 front reads before it serves a
 * request: the PROXY header once, when `--proxy-protocol` says a trusted
 * layer-4 balancer is in front of us (parsed by `../proxy_protocol.ts`),
 * then each request head (parsed by `request_head.ts`). These are the
 * connection's Head and Idle phases: between requests it waits under the
 * idle deadline, and from a head's first byte under the head's own, so a
 * client that drips a head can't hold the connection past
 * `--client-header-timeout`.
 *
 * @module
 */

import type { Connection } from "../../http1/connection.ts";
import { parseProxyHeader, ProxyProtocolError } from "../proxy_protocol.ts";
import { type FrontContext, Phase } from "./context.ts";
import {
  findRequestHeadEnd,
  MAX_REQUEST_HEAD_BYTES,
  parseRequestHead,
  type RequestHead,
} from "./request_head.ts";

const LF = 10;

/** What reading before a request needs from its connection (a ClientConnection). */
export interface HeadSource {
  /** The client's socket and read buffer. */
  readonly c: Connection;
  /** What the connection shares with its server: metrics, log, draining. */
  readonly ctx: FrontContext;
  /** The peer's address; replaced by the one a PROXY header carries. */
  clientIp: string;
  /** Whether the connection was closed (a read that fails then is no error). */
  readonly closed: boolean;
  /** Requests served so far: after the first, an empty buffer means idle. */
  readonly requests: number;
  /** The wait the connection is in. */
  readonly phase: Phase;
  /** Enters `phase`; its deadline starts now. */
  enter(phase: Phase): void;
  /** A read of the socket already pending (see ClientConnection); taken before reading. */
  takePendingRead(): Promise<boolean> | undefined;
}

/**
 * Reads the PROXY header a trusted peer must send first and consumes it
 * from the buffer. Resolves false when the connection is to be refused: the
 * bytes are not a header we accept (counted and logged), or the peer left.
 */
export async function readProxyHeader(src: HeadSource): Promise<boolean> {
  const c = src.c;
  for (;;) {
    let result;
    try {
      result = parseProxyHeader(c.buf, c.start, c.end);
    } catch (err) {
      if (!(err instanceof ProxyProtocolError)) throw err;
      src.ctx.metrics.rejected("proxy_protocol");
      src.ctx.log.debug("bad PROXY header: {error}", { error: err.message });
      return false;
    }
    if (result.kind === "header") {
      c.start = result.end;
      if (result.address) src.clientIp = result.address.sourceIp;
      return true;
    }
    if (!(await c.fill())) return false;
  }
}

/**
 * The next request head, consumed from the buffer; null when the client
 * ended the connection between requests, or shutdown began while it was
 * idle. Throws RequestError for a head that must be refused.
 */
export async function readRequestHead(src: HeadSource): Promise<RequestHead | null> {
  const c = src.c;
  let end = findRequestHeadEnd(c.buf, c.start, c.end);
  while (end === -1) {
    // Idle until the next request's first byte; from then on, the head's own deadline.
    if (c.buffered === 0 && src.requests > 0) {
      if (src.phase !== Phase.Idle) src.enter(Phase.Idle);
      if (src.ctx.draining()) return null;
    } else if (src.phase !== Phase.Head) {
      src.enter(Phase.Head);
    }
    const before = c.end - c.start;
    let more: boolean;
    try {
      more = await (src.takePendingRead() ?? c.fill());
    } catch (err) {
      if (src.closed) return null;
      throw err;
    }
    if (!more) return null;
    // A head can only end at an LF: scanning again only then keeps a head
    // dripped byte by byte from costing a rescan per byte.
    if (c.buf.indexOf(LF, c.start + before) === -1 && c.buffered <= MAX_REQUEST_HEAD_BYTES) {
      continue;
    }
    end = findRequestHeadEnd(c.buf, c.start, c.end);
  }
  const head = parseRequestHead(c.buf, c.start, end);
  c.start = end;
  return head;
}
