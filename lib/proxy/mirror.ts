/**
 * Request mirroring (shadowing): a copy of a request goes to another pool
 * and its answer is read and discarded. It never delays or changes the
 * client's answer: the copy is started without being awaited, has its own
 * timeout rather than the client's signal, gets no retries, and is skipped,
 * not queued, when `--mirror-max-in-flight` copies are already out or when
 * the body was not kept whole in the retry buffer (a streamed body can be
 * read only once, by the primary).
 *
 * @module
 */

import type { Logger } from "../core/logging.ts";
import type { UpstreamRequest } from "../core/transport.ts";
import type { PickRequest } from "../balancing/types.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { Upstream } from "./upstream.ts";

/** Sends mirror copies, at most `maxInFlight` at once over every route. */
export class Mirror {
  readonly #max: number;
  readonly #metrics: LbMetrics;
  readonly #log: Logger;
  readonly #now: () => number;
  #inFlight = 0;
  readonly #pending = new Set<Promise<void>>();

  constructor(maxInFlight: number, metrics: LbMetrics, log: Logger, now: () => number) {
    this.#max = maxInFlight;
    this.#metrics = metrics;
    this.#log = log;
    this.#now = now;
  }

  /** Copies now in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Starts a copy of `request` to `up` for route `route`, unless the cap is
   * reached or the body is a stream. Returns at once.
   */
  send(route: string, up: Upstream, request: UpstreamRequest, pick: PickRequest): void {
    const counter = (result: string) =>
      this.#metrics.mirrorRequests.labels(route, up.name, result).inc();
    if (request.body instanceof ReadableStream) return counter("skipped_body");
    if (this.#inFlight >= this.#max) return counter("skipped_busy");
    const backend = up.strategy.pick(up.pool.healthy, { now: this.#now(), request: pick });
    if (!backend) return counter("no_backend");
    this.#inFlight++;
    this.#metrics.mirrorInFlight.inc();
    backend.begin();
    const sentAt = this.#now();
    const copy = {
      ...request,
      signal: AbortSignal.timeout(up.config.responseTimeoutMs),
    };
    const done = (async () => {
      try {
        const res = await up.transport.request(backend.spec, copy);
        const at = this.#now();
        backend.answered(at - sentAt, at);
        await discard(res.body);
        res.upgrade?.conn.close();
        backend.settle();
        counter(res.status >= 500 ? "5xx" : "ok");
      } catch (err) {
        backend.fail();
        counter("error");
        this.#log.debug("mirror to {pool}/{backend} failed: {error}", {
          pool: up.name,
          backend: backend.id,
          error: err instanceof Error ? err.message : String(err),
        });
      } finally {
        this.#inFlight--;
        this.#metrics.mirrorInFlight.dec();
      }
    })();
    this.#pending.add(done);
    done.finally(() => this.#pending.delete(done));
  }

  /** Waits for the copies in flight (shutdown); each ends by its own timeout at the latest. */
  async drain(): Promise<void> {
    await Promise.all(this.#pending);
  }
}

/** Reads a body to its end and drops it, so the connection can be reused. */
async function discard(body: ReadableStream<Uint8Array> | Uint8Array | null): Promise<void> {
  if (!(body instanceof ReadableStream)) return;
  for await (const _ of body) {
    // Dropped.
  }
}
