/**
 * Ended spans to an OTLP/HTTP collector: a bounded queue, batches posted as
 * OTLP JSON (encoded by the OpenTelemetry SDK's own `JsonTraceSerializer`,
 * loaded on first use so an lb without tracing never loads it), one export
 * in flight at a time, and a final flush when the lb stops. A span that
 * finds the queue full is dropped and counted; a batch the collector
 * refuses, or that fails or times out, is counted failed and not retried
 * (retrying would hold memory behind an outage, and the queue keeps
 * filling meanwhile). Nothing here throws into the request path: a failing
 * collector costs the lb its spans, never its traffic.
 *
 * One exporter per thread (`PolicyDeps.shared`): with `--workers N` there
 * are N queues and N export streams.
 *
 * @module
 */

import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { OtlpExportConfig } from "../config/policies/types.ts";
import type { Logger } from "../core/logging.ts";
import { VERSION } from "../core/version.ts";
import type { LbMetrics } from "../metrics/lb_metrics.ts";
import type { SpanOrigin, SpanRecord } from "./trace_span.ts";

/** Turns a batch into a request body (`JsonTraceSerializer` of `@opentelemetry/otlp-transformer`). */
export interface SpanSerializer {
  serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined;
}

/** The SDK's OTLP JSON encoder, imported when the first batch goes. */
async function sdkSerializer(): Promise<SpanSerializer> {
  const { JsonTraceSerializer } = await import("@opentelemetry/otlp-transformer");
  return JsonTraceSerializer;
}

/** What an {@link OtlpExporter} is built with besides its settings. */
export interface OtlpExporterDeps {
  readonly metrics: LbMetrics;
  readonly log: Logger;
  /** The encoder; the SDK's JSON one by default. */
  readonly serializer?: () => Promise<SpanSerializer>;
}

/** Where spans are sent: what the tracing policy needs of the exporter. */
export interface SpanSink {
  /** The resource and scope every span of this sink carries. */
  readonly origin: SpanOrigin;
  /** Queues an ended span (or drops and counts it when the queue is full). */
  add(span: SpanRecord): void;
}

/** Batches ended spans to an OTLP/HTTP collector. */
export class OtlpExporter implements SpanSink {
  readonly origin: SpanOrigin;
  readonly #config: OtlpExportConfig;
  readonly #log: Logger;
  readonly #counts: { exported: Counted; failed: Counted; dropped: Counted };
  readonly #headers: Record<string, string>;
  readonly #loadSerializer: () => Promise<SpanSerializer>;
  #serializer: Promise<SpanSerializer> | undefined;
  #client: Deno.HttpClient | undefined;
  #queue: SpanRecord[] = [];
  #sending: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #healthy = true;

  constructor(config: OtlpExportConfig, deps: OtlpExporterDeps) {
    this.#config = config;
    this.#log = deps.log;
    const spans = deps.metrics.spans;
    this.#counts = {
      exported: spans.labels("exported"),
      failed: spans.labels("failed"),
      dropped: spans.labels("dropped"),
    };
    this.#headers = { "content-type": "application/json", ...Object.fromEntries(config.headers) };
    this.#loadSerializer = deps.serializer ?? sdkSerializer;
    this.origin = {
      // The encoder reads a resource's `attributes` (and `schemaUrl`) only;
      // a plain object spares loading @opentelemetry/resources.
      resource: {
        attributes: { "service.name": config.serviceName, "service.version": VERSION },
      } as unknown as ReadableSpan["resource"],
      instrumentationScope: { name: "deno-lb", version: VERSION },
    };
  }

  /** Spans waiting for export. */
  get queued(): number {
    return this.#queue.length;
  }

  add(span: SpanRecord): void {
    if (this.#closed || this.#queue.length >= this.#config.queueSize) {
      this.#counts.dropped.inc();
      return;
    }
    this.#queue.push(span);
    // The timer starts with the first span, so an idle lb has none running.
    if (this.#timer === undefined) this.#startTimer();
    if (this.#queue.length >= this.#config.batchSize && this.#sending === undefined) {
      this.#send(false);
    }
  }

  /** Exports everything queued now (and waits for it). */
  async flush(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
    if (this.#queue.length > 0) await this.#send(true);
  }

  /** Flushes what is queued, then stops; spans added later are dropped. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#closed = true;
    // Spans that could not go in the final flush are lost with the process.
    if (this.#queue.length > 0) this.#counts.dropped.inc(this.#queue.length);
    this.#queue = [];
    this.#client?.close();
    this.#client = undefined;
  }

  #startTimer(): void {
    const timer = setInterval(() => {
      if (this.#sending === undefined && this.#queue.length > 0) this.#send(false);
    }, this.#config.intervalMs);
    this.#timer = timer;
    // Export timing must not keep a stopping process alive.
    Deno.unrefTimer(timer as unknown as number);
  }

  /** Sends full batches (or, with `all`, everything), one request at a time. */
  #send(all: boolean): Promise<void> {
    const run = async () => {
      const size = this.#config.batchSize;
      do {
        const batch = this.#queue.length <= size ? this.#queue : this.#queue.slice(0, size);
        this.#queue = batch === this.#queue ? [] : this.#queue.slice(size);
        const ok = await this.#post(batch);
        // At the final flush, a collector that just failed is not tried again for every batch.
        if (!ok && all) break;
      } while (this.#queue.length >= size || (all && this.#queue.length > 0));
    };
    const sending = run().finally(() => {
      this.#sending = undefined;
    });
    this.#sending = sending;
    return sending;
  }

  /** Posts one batch; true when the collector took it. Never rejects. */
  async #post(batch: SpanRecord[]): Promise<boolean> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("timed out")), this.#config.timeoutMs);
    try {
      this.#serializer ??= this.#loadSerializer();
      const body = (await this.#serializer).serializeRequest(batch);
      if (body === undefined) throw new Error("the encoder produced nothing");
      this.#client ??= Deno.createHttpClient({});
      const res = await fetch(this.#config.url, {
        method: "POST",
        headers: this.#headers,
        // The encoder's bytes come from a TextEncoder: never a shared buffer.
        body: body as Uint8Array<ArrayBuffer>,
        signal: abort.signal,
        client: this.#client,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`the collector answered ${res.status} ${text.slice(0, 200)}`);
      // OTLP/HTTP §partial success: a 200 may still say some spans were refused.
      const rejected = Math.min(batch.length, rejectedSpans(text));
      this.#counts.exported.inc(batch.length - rejected);
      if (rejected > 0) this.#counts.failed.inc(rejected);
      this.#recovered();
      return true;
    } catch (err) {
      this.#counts.failed.inc(batch.length);
      this.#failed(err);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(err: unknown): void {
    if (!this.#healthy) return;
    // Once per outage: a down collector must not flood the lb's own log.
    this.#healthy = false;
    this.#log.warning("OTLP export to {url} failed, spans are lost until it works: {error}", {
      url: this.#config.url,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  #recovered(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    this.#log.info("OTLP export to {url} works again", { url: this.#config.url });
  }
}

type Counted = { inc(n?: number): void };

/** `partialSuccess.rejectedSpans` of an OTLP JSON answer; 0 when absent or unreadable. */
function rejectedSpans(text: string): number {
  if (!text.includes("rejectedSpans")) return 0;
  try {
    const n = Number(JSON.parse(text)?.partialSuccess?.rejectedSpans ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
