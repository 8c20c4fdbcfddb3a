/**
 * The live dashboard's feed: `GET /dashboard/events`, a Server-Sent Events
 * stream (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * A new client gets `retry:` and a full `snapshot` at once; then one shared
 * ticker samples the lb (the same `/status` report, plus rates) and sends
 * every client the same `update`, encoded once. The ticker runs only while
 * someone watches: the last client leaving clears it. With `idleSampleMs`
 * the history is also sampled slowly while nobody watches, so a page
 * opened later shows the last minutes. Clients are capped (the next one
 * gets 503), and one that stops reading is dropped (it reconnects, and a
 * snapshot puts it right), so no client can make the lb do or hold
 * unbounded work.
 *
 * @module
 */

import type { EventLog } from "./event_log.ts";
import { History } from "./live_history.ts";
import { RateMeter } from "./live_rates.ts";
import {
  countersOf,
  type DashboardMessage,
  type DashboardState,
  dashboardState,
  historyPoint,
} from "./dashboard_state.ts";
import { statusReport, type StatusSource } from "./status.ts";
import type { TrafficReport } from "./types.ts";

/** Options of a {@link LiveFeed}; every default is named. */
export interface LiveOptions {
  /** What `/status` reads. */
  readonly source: StatusSource;
  /** Gathers the traffic report (asks every worker); called once per sample. */
  readonly report: () => Promise<TrafficReport>;
  /** Recent events to show; none without. */
  readonly events?: EventLog;
  /** Whether the admin API takes mutations (a token is configured). */
  readonly actions: boolean;
  /** Wall clock (epoch ms); `Date.now` by default. */
  readonly now?: () => number;
  /** Interval of updates while someone watches, ms; 1000 by default. */
  readonly tickMs?: number;
  /** Interval of history samples while nobody watches, ms; 0 (none) by default. */
  readonly idleSampleMs?: number;
  /** A comment line is sent when nothing else was for this long, ms; 15 000 by default. */
  readonly heartbeatMs?: number;
  /** Most clients at once; the next gets 503. 32 by default. */
  readonly maxSubscribers?: number;
  /** The reconnection delay sent as `retry:`, ms; 2000 by default. */
  readonly retryMs?: number;
}

/** Unsent messages a client may have queued before it counts as gone (it stopped reading). */
const MAX_QUEUED = 16;

const encoder = new TextEncoder();

interface Subscriber {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  lastWrite: number;
  /** Set once it had its snapshot: updates go only to clients that did. */
  ready: boolean;
}

/** The SSE feed and the sampler behind it. */
export class LiveFeed {
  readonly #opts: LiveOptions;
  readonly #now: () => number;
  readonly #tickMs: number;
  readonly #idleMs: number;
  readonly #max: number;
  readonly #subs = new Set<Subscriber>();
  readonly #meter = new RateMeter();
  readonly #history = new History();
  #state: DashboardState | undefined;
  #sampling: Promise<DashboardState | undefined> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #timerMs = 0;
  /** The last event seq sent in an update. */
  #sentSeq = 0;
  #closed = false;
  #samples = 0;

  constructor(options: LiveOptions) {
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#tickMs = options.tickMs ?? 1000;
    this.#idleMs = options.idleSampleMs ?? 0;
    this.#max = options.maxSubscribers ?? 32;
    this.#schedule();
  }

  /** Clients connected now. */
  get subscribers(): number {
    return this.#subs.size;
  }

  /** Whether the fast ticker runs (only while someone watches). */
  get ticking(): boolean {
    return this.#timer !== undefined && this.#timerMs === this.#tickMs;
  }

  /** Samples taken so far, for tests and the cost measurement. */
  get samples(): number {
    return this.#samples;
  }

  /** Answers `GET /dashboard/events`: a stream, or 503 past the cap or after {@link close}. */
  connect(): Response {
    if (this.#closed || this.#subs.size >= this.#max) {
      const why = this.#closed
        ? "the lb is shutting down"
        : `too many dashboard streams (${this.#max}); close one`;
      return new Response(`${why}\n`, {
        status: 503,
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "no-store",
          "retry-after": "5",
        },
      });
    }
    let sub: Subscriber;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        sub = { controller, lastWrite: this.#now(), ready: false };
        this.#subs.add(sub);
        this.#write(sub, encoder.encode(`retry: ${this.#opts.retryMs ?? 2000}\n\n`));
        this.#schedule();
        void this.#fresh().then((state) => {
          // Without a state (the sample failed) the next tick sends the snapshot.
          if (!state || !this.#subs.has(sub) || sub.ready) return;
          this.#write(sub, this.#encode("snapshot", this.#full(state)));
          sub.ready = true;
        });
      },
      cancel: () => this.#remove(sub),
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  }

  /** Ends every stream and stops every timer; later connects get 503. */
  close(): void {
    this.#closed = true;
    for (const sub of [...this.#subs]) {
      this.#remove(sub);
      try {
        sub.controller.close();
      } catch { /* already closed */ }
    }
    this.#stopTimer();
  }

  /** One sample: the report, the rates since the last, a history point. Shared by concurrent callers. */
  sample(): Promise<DashboardState | undefined> {
    return this.#sampling ??= (async () => {
      try {
        const at = this.#now();
        const status = statusReport(this.#opts.source, at, await this.#opts.report());
        const rates = this.#meter.observe(at, countersOf(status));
        this.#history.add(historyPoint(status, rates, at));
        this.#samples++;
        return this.#state = dashboardState(status, rates, at, this.#opts.actions);
      } catch {
        // A worker that did not answer: the next tick tries again.
        return undefined;
      } finally {
        this.#sampling = undefined;
      }
    })();
  }

  /** The state for a new client: the last sample when it is recent, else a new one. */
  #fresh(): Promise<DashboardState | undefined> {
    const state = this.#state;
    if (state && this.#now() - state.at < this.#tickMs) return Promise.resolve(state);
    return this.sample();
  }

  #full(state: DashboardState): DashboardMessage {
    return {
      state,
      history: this.#history.points(state.at),
      events: this.#opts.events?.since() ?? [],
    };
  }

  async #tick(): Promise<void> {
    if (this.#subs.size === 0) {
      await this.sample();
      return;
    }
    const state = await this.sample();
    const now = this.#now();
    if (state) {
      const events = this.#opts.events?.since(this.#sentSeq) ?? [];
      this.#sentSeq = this.#opts.events?.lastSeq ?? 0;
      const latest = this.#history.latest;
      const bytes = this.#encode("update", {
        state,
        history: latest ? [latest] : [],
        events,
      });
      let snapshot: Uint8Array | undefined;
      for (const sub of this.#subs) {
        if (sub.ready) this.#write(sub, bytes);
        else {
          // Its connect-time sample failed: it gets the whole picture now.
          this.#write(sub, snapshot ??= this.#encode("snapshot", this.#full(state)));
          sub.ready = true;
        }
      }
    }
    const heartbeat = this.#opts.heartbeatMs ?? 15_000;
    for (const sub of this.#subs) {
      if (now - sub.lastWrite >= heartbeat) this.#write(sub, encoder.encode(": keep-alive\n\n"));
    }
  }

  #encode(event: string, message: DashboardMessage): Uint8Array {
    // JSON has no raw newlines, so one `data:` line carries it whole.
    return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** Queues bytes for one client; one that stopped reading, or is gone, is dropped at once. */
  #write(sub: Subscriber, bytes: Uint8Array): void {
    const size = sub.controller.desiredSize;
    if (size === null || size < -MAX_QUEUED) {
      this.#remove(sub);
      try {
        sub.controller.close();
      } catch { /* already closed */ }
      return;
    }
    try {
      sub.controller.enqueue(bytes);
      sub.lastWrite = this.#now();
    } catch {
      this.#remove(sub);
    }
  }

  #remove(sub: Subscriber): void {
    if (!this.#subs.delete(sub)) return;
    this.#schedule();
  }

  /** The fast ticker while someone watches, the idle sampler (if any) otherwise. */
  #schedule(): void {
    const want = this.#closed ? 0 : this.#subs.size > 0 ? this.#tickMs : this.#idleMs;
    if (want === this.#timerMs && (want === 0) === (this.#timer === undefined)) return;
    this.#stopTimer();
    if (want <= 0) return;
    this.#timerMs = want;
    this.#timer = setInterval(() => void this.#tick(), want);
    // The idle sampler never keeps the process alive.
    if (this.#subs.size === 0) Deno.unrefTimer(this.#timer);
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#timerMs = 0;
  }
}
