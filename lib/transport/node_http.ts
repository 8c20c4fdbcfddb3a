/**
 * The first upstream transport, on `node:http`'s client. Unlike `fetch` it
 * never decompresses bodies, lets us send the client's `Host`, follows no
 * redirects and never retries by itself (DENO-NOTES), so every proxy rule
 * holds on it. The faster `Deno.connect` transport is measured against it.
 * `https://` backends go through `node:https` with verification on.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { rootCertificates } from "node:tls";
import {
  ClientAbortError,
  type HeaderPairs,
  type Transport,
  type TransportOptions,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
} from "../core/transport.ts";

/** Most idle connections kept per backend. */
const MAX_IDLE_PER_BACKEND = 128;
/** Response bytes buffered ahead of a slow client before the socket is paused. */
const BODY_HIGH_WATER = 64 * 1024;

/** An HTTP/1.1 client on `node:http` with a keep-alive pool per backend. */
export class NodeHttpTransport implements Transport {
  readonly #options: TransportOptions;
  readonly #agent: http.Agent;
  readonly #tlsAgent: https.Agent;

  constructor(options: TransportOptions) {
    this.#options = options;
    // `timeout` on a keep-alive agent closes sockets idle that long in its free list.
    const pooling = {
      keepAlive: true,
      maxFreeSockets: MAX_IDLE_PER_BACKEND,
      timeout: options.idleTimeoutMs,
      scheduling: "lifo",
    } as const;
    this.#agent = new http.Agent(pooling);
    // Node's `ca` *replaces* the default roots (unlike Deno.connectTls's
    // caCerts, which add to them), so the bundled roots are passed along:
    // --backend-ca adds trust, it never takes any away. Verification stays
    // on (`rejectUnauthorized` defaults to true) and SNI is the host name.
    this.#tlsAgent = new https.Agent({
      ...pooling,
      ca: options.caCerts ? [...rootCertificates, ...options.caCerts] : undefined,
    });
  }

  request(target: UpstreamTarget, ureq: UpstreamRequest): Promise<UpstreamResponse> {
    const agent = target.tls ? this.#tlsAgent : this.#agent;
    return new Promise((resolve, reject) => {
      new Exchange(agent, this.#options, target, ureq, resolve, reject).start();
    });
  }

  close(): Promise<void> {
    this.#agent.destroy();
    this.#tlsAgent.destroy();
    return Promise.resolve();
  }
}

/** One request/response exchange and its timers. */
class Exchange {
  #req!: http.ClientRequest;
  #connected = false;
  #settled = false;
  #failure: UpstreamError | ClientAbortError | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #responseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly agent: http.Agent,
    readonly options: TransportOptions,
    readonly target: UpstreamTarget,
    readonly ureq: UpstreamRequest,
    readonly resolve: (res: UpstreamResponse) => void,
    readonly reject: (err: unknown) => void,
  ) {}

  start(): void {
    const { ureq, target } = this;
    if (ureq.signal.aborted) return this.reject(new ClientAbortError());
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of ureq.headers) {
      const prior = headers[name];
      headers[name] = prior === undefined ? value : [prior, value].flat();
    }
    // Node only chunks bodies of methods it expects to have one; say so for all.
    if (ureq.body && headers["content-length"] === undefined) {
      headers["transfer-encoding"] = "chunked";
    }
    const req = (target.tls ? https : http).request({
      hostname: target.hostname,
      port: target.port,
      method: ureq.method,
      path: ureq.path,
      headers,
      agent: this.agent,
      setHost: false,
    });
    this.#req = req;
    ureq.signal.addEventListener("abort", this.#onAbort);
    this.#connectTimer = setTimeout(
      () => this.#fail(new UpstreamError("connect_timeout", "connect timed out")),
      this.options.connectTimeoutMs,
    );
    req.on("socket", (socket: Socket) => {
      // A TLS connection counts as connected once the handshake (and so the
      // certificate check) is done: a failed check is then a connect error,
      // and the request may go to another backend.
      if (socket.connecting) {
        socket.once(target.tls ? "secureConnect" : "connect", this.#onConnected);
      } else this.#onConnected();
    });
    req.on("error", (err: NodeJS.ErrnoException) => this.#fail(this.#classify(err)));
    req.on("response", (res: http.IncomingMessage) => this.#onResponse(res));
    if (!ureq.body) req.end();
    else if (ureq.body instanceof Uint8Array) req.end(ureq.body);
  }

  #onConnected = (): void => {
    if (this.#settled) return;
    this.#connected = true;
    clearTimeout(this.#connectTimer);
    this.#responseTimer = setTimeout(
      () => this.#fail(new UpstreamError("response_timeout", "no response headers in time")),
      this.options.responseTimeoutMs,
    );
    // The body is read only once connected, so a failed connect leaves it
    // untouched and the request can go to another backend.
    if (this.ureq.body instanceof ReadableStream) pump(this.ureq.body, this.#req);
  };

  #onAbort = (): void => this.#fail(new ClientAbortError());

  #classify(err: NodeJS.ErrnoException): UpstreamError {
    const code = err.code ?? "";
    if (code === "ECONNREFUSED") return new UpstreamError("connect_refused", err.message);
    if (!this.#connected) return new UpstreamError("connect_error", err.message);
    if (code.startsWith("HPE_")) return new UpstreamError("protocol", err.message);
    return new UpstreamError("reset", err.message);
  }

  #fail(err: UpstreamError | ClientAbortError): void {
    this.#failure ??= err;
    this.#cleanup();
    this.#req.destroy();
    if (this.#settled) return;
    this.#settled = true;
    this.reject(this.#failure);
  }

  #cleanup(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#responseTimer);
  }

  #onResponse(res: http.IncomingMessage): void {
    if (this.#settled) return void res.destroy();
    this.#settled = true;
    this.#cleanup();
    const headers: HeaderPairs = [];
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.push([raw[i].toLowerCase(), raw[i + 1]]);
    const status = res.statusCode ?? 0;
    const bodiless = this.ureq.method === "HEAD" || status === 204 || status === 304;
    if (bodiless) {
      res.resume(); // lets the socket return to the pool
      this.ureq.signal.removeEventListener("abort", this.#onAbort);
      return this.resolve({ status, headers, body: null });
    }
    this.resolve({ status, headers, body: this.#bodyStream(res) });
  }

  #bodyStream(res: http.IncomingMessage): ReadableStream<Uint8Array> {
    const done = () => this.ureq.signal.removeEventListener("abort", this.#onAbort);
    // Once the head is delivered a client abort must end the body, not reject.
    this.ureq.signal.removeEventListener("abort", this.#onAbort);
    const onAbort = () => res.destroy();
    this.ureq.signal.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    const finish = () => {
      finished = true;
      done();
      this.ureq.signal.removeEventListener("abort", onAbort);
    };
    return new ReadableStream<Uint8Array>({
      start(controller) {
        res.on("data", (chunk: Uint8Array) => {
          if (finished) return; // cancelled: data already in flight is dropped
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.on("end", () => {
          if (finished) return;
          finish();
          controller.close();
        });
        res.on("close", () => {
          if (finished) return;
          finish();
          // Closed before the end of the body: the backend reset or the
          // framing broke. Erroring the stream makes the server abort the
          // client's connection instead of ending a truncated body cleanly.
          controller.error(new UpstreamError("reset", "upstream closed mid-body"));
        });
      },
      pull() {
        res.resume();
      },
      cancel() {
        finish();
        res.destroy();
      },
    }, { highWaterMark: BODY_HIGH_WATER, size: (chunk) => chunk.byteLength });
  }
}

/** Copies a request body into the upstream request, honouring backpressure. */
async function pump(body: ReadableStream<Uint8Array>, req: http.ClientRequest): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (req.destroyed) return void reader.cancel();
      if (!req.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            req.off("drain", go);
            req.off("close", go);
            resolve();
          };
          req.on("drain", go);
          req.on("close", go);
        });
      }
    }
    if (!req.destroyed) req.end();
  } catch (err) {
    // The client's upload broke off; the upstream request can't be completed.
    req.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    reader.releaseLock();
  }
}
