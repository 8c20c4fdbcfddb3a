/**
 * One recorded span, kept in the shape the OpenTelemetry SDK's OTLP
 * encoder reads (`ReadableSpan` of `@opentelemetry/sdk-trace`), so the
 * exporter hands a batch to `JsonTraceSerializer` as it is. A record is a
 * plain object with its attributes in one dictionary: building one is the
 * whole per-request cost of a sampled span (the SDK's own `Tracer` measured
 * about 20 µs more per traced request, see the README's tracing section).
 *
 * @module
 */

import type { Attributes, HrTime, SpanContext } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";

/** `SpanKind` of `@opentelemetry/api`. */
export const SPAN_KIND = { server: 1, client: 2 } as const;
/** `SpanStatusCode` of `@opentelemetry/api`. */
export const STATUS_CODE = { unset: 0, error: 2 } as const;

/** What every span of one exporter shares: the process's resource and the instrumentation scope. */
export interface SpanOrigin {
  readonly resource: ReadableSpan["resource"];
  readonly instrumentationScope: ReadableSpan["instrumentationScope"];
}

const NONE: never[] = [];
const UNSET = { code: STATUS_CODE.unset } as const;

/** Wall-clock milliseconds (fractions kept) as OpenTelemetry's `[seconds, nanoseconds]`. */
export function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** A span being recorded, then ended; readable by the OTLP encoder once ended. */
export class SpanRecord implements ReadableSpan {
  readonly #context: SpanContext;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [0, 0];
  ended = false;
  status: ReadableSpan["status"] = UNSET;
  readonly links = NONE;
  readonly events = NONE;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly resource: ReadableSpan["resource"];
  readonly instrumentationScope: ReadableSpan["instrumentationScope"];
  readonly #startMs: number;

  /**
   * `startMs` is wall-clock milliseconds; `parent` is undefined for a
   * trace's first span. `attributes` becomes the record's own.
   */
  constructor(
    readonly name: string,
    readonly kind: 1 | 2,
    context: SpanContext,
    parent: SpanContext | undefined,
    readonly attributes: Attributes,
    startMs: number,
    origin: SpanOrigin,
  ) {
    this.#context = context;
    this.parentSpanContext = parent;
    this.#startMs = startMs;
    this.startTime = hrTime(startMs);
    this.resource = origin.resource;
    this.instrumentationScope = origin.instrumentationScope;
  }

  /** The span's own context (trace id, span id, flags). */
  spanContext(): SpanContext {
    return this.#context;
  }

  /** Ends the span at `endMs` (wall clock); an error status carries `message`. */
  end(endMs: number, error?: string): void {
    this.endTime = hrTime(endMs);
    this.duration = hrTime(Math.max(0, endMs - this.#startMs));
    this.ended = true;
    if (error !== undefined) this.status = { code: STATUS_CODE.error, message: error };
  }
}
