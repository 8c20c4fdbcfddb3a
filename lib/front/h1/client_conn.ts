/**
 * One client connection on the h1 front: read a head, hand the request to
 * the proxy core, write its reply, and go round again while both sides
 * keep the connection alive. Requests are served one at a time in arrival
 * order, so pipelined requests are answered in order (RFC 9112 §9.3.2);
 * bytes of the next request that came early simply wait in the buffer.
 *
 * Every wait on the client is under a deadline: the whole head within
 * `--client-header-timeout` (else 408), the gap between requests within
 * `--client-idle-timeout`, and each read of the body or write of the reply
 * within `--client-body-timeout`. A connection is in one phase at a time,
 * so it keeps one deadline, as the server's tick number it expires at, and
 * the server's one coarse clock checks them all.
 *
 * This module is that loop and its phases. What comes before a request (the
 * PROXY header, each head) is read by `head_reader.ts`, the switch to a
 * byte tunnel after a 101 is `upgrade.ts`, and the replies the front makes
 * on its own are `front_replies.ts`; each states what it needs of the
 * connection as an interface this class implements, so none imports it.
 *
 * @module
 */

import { Connection, type Socket } from "../../http1/connection.ts";
import { type BadRequestError, ClientTimeoutError, errorReply } from "../../proxy/errors.ts";
import type { ProxyRequest } from "../../core/message.ts";
import { ClientAbortError } from "../../core/transport.ts";
import { type FrontContext, Phase } from "./context.ts";
import { type BodySource, BodyState, requestBody } from "./request_body.ts";
import { RequestError, type RequestHead } from "./request_head.ts";
import { writeReply } from "./reply_writer.ts";
import type { Tunnel } from "./tunnel.ts";
import { type HeadSource, readProxyHeader, readRequestHead } from "./head_reader.ts";
import { CONTINUE, discard, refusal } from "./front_replies.ts";
import { requestAuthority } from "./request_authority.ts";
import { tunnelUpgrade, type UpgradeSink } from "./upgrade.ts";

/** A client connection; {@link ClientConnection.run} serves it until it closes. */
export class ClientConnection implements BodySource, HeadSource, UpgradeSink {
  /** The client's socket and its read buffer. */
  readonly c: Connection;
  #phase = Phase.Head;
  /** The server's tick at which the current wait expires; 0 when it has no deadline. */
  due = 0;
  #requests = 0;
  /** The reply has begun going out: a timeout can no longer answer 408. */
  #replying = false;
  /** Why the request body failed, when it did: the client gets this instead of the core's reply. */
  #bodyFailure: BadRequestError | undefined;
  #abort: AbortController | undefined;
  #closed = false;
  /**
   * A read kept pending on the client while its request is with the core,
   * so a client that leaves is noticed at once (its request is aborted);
   * bytes it brings are the next pipelined request, and the next head
   * read takes this read's result instead of starting another.
   */
  #watching: Promise<boolean> | undefined;
  /** The byte tunnel after a 101, so closing the connection ends it. */
  #tunnelOpen: Tunnel | undefined;

  /** A connection on `conn`, accepted by the server that shares `ctx`. */
  constructor(
    conn: Socket,
    readonly ctx: FrontContext,
    /** The peer's address; replaced by what a PROXY header carries. */
    public clientIp: string,
  ) {
    this.c = new Connection(conn);
  }

  /** Whether the connection sits between requests (shutdown closes those at once). */
  get idle(): boolean {
    return this.#phase === Phase.Idle || (this.#phase === Phase.Head && this.c.buffered === 0);
  }

  /** Serves requests until either side ends the connection. Never rejects. */
  async run(): Promise<void> {
    try {
      this.enter(Phase.Head);
      if (this.ctx.proxyProtocol && !(await readProxyHeader(this))) return;
      for (;;) {
        const head = await readRequestHead(this);
        if (head === null) return;
        if (!(await this.#serve(head))) return;
      }
    } catch (err) {
      if (err instanceof RequestError) await this.#refuse(err.status, err.message);
      else this.ctx.log.debug("client connection ended: {error}", { error: String(err) });
    } finally {
      this.close();
    }
  }

  /** A deadline passed: answer 408 if nothing of a reply went out yet, then close. */
  expire(): void {
    this.due = 0;
    const phase = this.#phase;
    this.ctx.metrics.timeout(phase);
    const answer = (phase === Phase.Head && this.c.buffered > 0) ||
      (phase === Phase.Body && !this.#replying);
    if (answer) {
      const reply = errorReply(new ClientTimeoutError(), 0);
      this.#replying = true;
      writeReply(this, "GET", 1, reply, true).finally(() => this.close());
    } else {
      this.close();
    }
  }

  /** Closes the socket; a request in flight sees its signal abort. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.due = 0;
    this.#abort?.abort(new ClientAbortError());
    this.#tunnelOpen?.close();
    this.c.close();
    this.ctx.closed(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- HeadSource, for head_reader.ts --------------------------------------

  /** Enters a phase; its deadline starts now (a field write: the server's tick checks it). */
  enter(phase: Phase): void {
    this.#phase = phase;
    this.due = this.ctx.dueTick(phase);
  }

  /** The wait the connection is in. */
  get phase(): Phase {
    return this.#phase;
  }

  /** Requests served so far on this connection. */
  get requests(): number {
    return this.#requests;
  }

  /** Serves one request. Resolves whether the connection can carry another. */
  async #serve(head: RequestHead): Promise<boolean> {
    this.#requests++;
    if (head.form === "authority") {
      // CONNECT asks for a tunnel to a host of the client's choosing: not what a load balancer does.
      throw new RequestError(501, "CONNECT is not supported");
    }
    const body = new BodyState();
    const abort = this.#abort ??= new AbortController();
    const req: ProxyRequest = {
      method: head.method,
      path: head.path,
      host: requestAuthority(head, this.c.conn),
      headers: head.fields,
      body: requestBody(this, head.framing, head.expectContinue, body),
      contentLength: head.framing.kind === "length" ? head.framing.length : undefined,
      signal: abort.signal,
      clientIp: this.clientIp,
      protocol: head.minor === 1 ? "HTTP/1.1" : "HTTP/1.0",
      // A read still pending on the socket (an upgrade pipelined behind a
      // request) could take the new protocol's first bytes: the offer is
      // then ignored, as RFC 9110 §7.8 allows.
      upgrade: this.#watching ? undefined : head.upgrade,
    };
    this.#bodyFailure = undefined;
    this.enter(Phase.Busy);
    // The body (if any) is all here and no protocol switch is asked for: watch for the client leaving.
    if (body.done && head.upgrade === undefined && !this.#watching) this.#watchClient(abort);
    const exchange = await this.ctx.core().handle(req);
    if (this.#closed) {
      exchange.finish(0);
      discard(exchange.reply);
      return false;
    }
    let reply = exchange.reply;
    if (this.#bodyFailure) {
      // The client's own body broke the protocol: that, not the backend's answer, is what it gets.
      discard(reply);
      reply = errorReply(this.#bodyFailure, 0);
      this.ctx.metrics.badRequest(reply.status);
    }
    if (reply.status === 101 && reply.upgrade) {
      this.#replying = true;
      return await tunnelUpgrade(this, reply, exchange);
    }
    const keep = head.keepAlive && !reply.close && !this.ctx.draining();
    this.#replying = true;
    const sent = await writeReply(this, head.method, head.minor, reply, !keep);
    this.#replying = false;
    exchange.finish(sent.bytes);
    // A body nobody read to its end leaves the stream out of step: close rather than guess.
    return keep && sent.reusable && body.done && !this.#closed;
  }

  /** Keeps a read pending on the client; its end (or a reset) aborts the request in flight. */
  #watchClient(abort: AbortController): void {
    const watching = this.c.fill();
    this.#watching = watching;
    // Once it settles untaken its bytes are in the buffer: nothing is pending any more.
    const settled = (more: boolean) => {
      if (this.#watching !== watching) return;
      this.#watching = undefined;
      if (!more) abort.abort(new ClientAbortError());
    };
    watching.then(settled, () => settled(false));
  }

  /** Answers a request that can't be served, then lets the connection close. */
  async #refuse(status: number, message: string): Promise<void> {
    if (this.#closed || this.#replying) return;
    this.ctx.metrics.badRequest(status);
    this.ctx.log.debug("refused a request with {status}: {error}", { status, error: message });
    this.#replying = true;
    await writeReply(this, "GET", 1, refusal(status, message), true);
  }

  // --- ReplySink, for reply_writer.ts ---------------------------------------

  /** Writes reply bytes under the send deadline. */
  async write(data: Uint8Array): Promise<void> {
    const before = this.#phase;
    this.enter(Phase.Send);
    try {
      await this.c.write(data);
    } finally {
      if (!this.#closed) this.enter(before === Phase.Send ? Phase.Busy : before);
    }
  }

  // --- UpgradeSink, for upgrade.ts ----------------------------------------

  /** The socket now belongs to `tunnel`, which closing the connection closes. */
  tunnelling(tunnel: Tunnel): void {
    this.enter(Phase.Busy);
    this.#tunnelOpen = tunnel;
  }

  // --- BodySource, for request_body.ts -------------------------------------

  /**
   * The client read left pending by the watch, if any, now the caller's:
   * every read of the socket goes through it first, so two reads are never
   * pending at once (a pipelined request's body may follow a watched one).
   */
  takePendingRead(): Promise<boolean> | undefined {
    const watching = this.#watching;
    this.#watching = undefined;
    return watching;
  }

  reading(active: boolean): void {
    if (active) this.enter(Phase.Body);
    else if (this.#phase === Phase.Body) this.enter(Phase.Busy);
  }

  async sendContinue(): Promise<void> {
    if (this.#replying) return;
    await this.c.write(CONTINUE);
  }

  malformed(err: BadRequestError): void {
    this.#bodyFailure ??= err;
  }
}
