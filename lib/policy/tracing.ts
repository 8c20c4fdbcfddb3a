/**
 * Tracing: W3C trace context in and out, a SERVER span per request and a
 * CLIENT span per upstream attempt, exported over OTLP (`otlp_exporter.ts`).
 *
 * - `request` reads the client's `traceparent`/`tracestate` (followed from
 *   anyone, from `--trust-proxy` peers only, or never, as configured),
 *   decides sampling (a followed parent decides; a new trace is sampled at
 *   the route's ratio), and for a sampled request starts the server span.
 * - `attempt` starts a child span per upstream try and points the upstream
 *   `traceparent` at it, so a backend's spans hang under the attempt that
 *   reached it; its end records the status or the error.
 * - `done` ends the server span with the status and body size delivered.
 *
 * A request that is not sampled keeps no state and records nothing: a
 * followed context goes upstream as it came (or rewritten to version 00,
 * sampled flag 0), a new one gets fresh ids with flag 0, so downstream
 * services still share the trace id.
 *
 * @module
 */

import type { Attributes, SpanContext, TraceState } from "@opentelemetry/api";
import type { TracingConfig } from "../config/policies/types.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import type { HeaderPairs } from "../core/transport.ts";
import { OtlpExporter, type SpanSink } from "./otlp_exporter.ts";
import {
  boundTracestate,
  formatTraceparent,
  parseTraceparent,
  sampleDecision,
} from "./trace_context.ts";
import { createTraceIds, type TraceIds } from "./trace_ids.ts";
import { SPAN_KIND, SpanRecord } from "./trace_span.ts";
import { attemptEnd, requestAttributes, serverEnd } from "./trace_attributes.ts";
import type { AttemptEnd, Policy, PolicyDeps, PolicyExchange } from "./types.ts";

/** What a test may replace: the span sink and the id source. */
export interface TracingOptions {
  readonly sink?: SpanSink;
  readonly ids?: TraceIds;
}

/** One sampled request's trace. */
interface RequestTrace {
  readonly server: SpanRecord;
  readonly context: SpanContext;
  readonly startWall: number;
  readonly startMono: number;
  attempts: number;
}

const NOTHING: AttemptEnd = () => {};

/** The key of the one exporter per thread. */
const EXPORTER = "tracing:otlp";

/** The tracing policy; a route without an exporter configured gets one with no phases. */
export function createTracing(
  config: TracingConfig,
  deps: PolicyDeps,
  _route: string,
  options: TracingOptions = {},
): Policy {
  const exporter = config.export;
  if (exporter === undefined && options.sink === undefined) return { kind: "tracing" };
  const sink = options.sink ??
    deps.shared(
      EXPORTER,
      () => new OtlpExporter(exporter!, { metrics: deps.metrics, log: deps.log }),
    );
  const ids = options.ids ?? createTraceIds();
  const { now, wallNow, random } = deps;
  const ratio = config.sample;
  const follow = config.follow;

  const policy: Policy = {
    kind: "tracing",
    request(x) {
      const fields = x.request.headers;
      let incoming: string | undefined;
      let count = 0;
      let states: string[] | undefined;
      for (let i = 0; i < fields.length; i++) {
        const name = fields[i][0];
        if (name === "traceparent") {
          incoming = fields[i][1];
          count++;
        } else if (name === "tracestate") (states ??= []).push(fields[i][1]);
      }
      const followed = follow === "any" || (follow === "trusted" && x.trustedPeer);
      // Several traceparent fields can't be told apart: the trace restarts.
      const parent = followed && count === 1 ? parseTraceparent(incoming!) : undefined;
      // §3.3: tracestate means something only next to the traceparent it came with.
      const state = parent !== undefined && states !== undefined
        ? boundTracestate(states)
        : undefined;
      if (!sampleDecision(parent, ratio, random)) {
        unsampled(x.upstreamHeaders, parent, state, states, count, ids);
        return undefined;
      }
      const traceId = parent?.traceId ?? ids.traceId();
      const traceState = state === undefined ? undefined : fixedTraceState(state);
      const context: SpanContext = { traceId, spanId: ids.spanId(), traceFlags: 1, traceState };
      const parentContext: SpanContext | undefined = parent && {
        traceId,
        spanId: parent.parentId,
        traceFlags: 1,
        isRemote: true,
        traceState,
      };
      const startWall = wallNow();
      const server = new SpanRecord(
        `${x.request.method} ${x.route}`,
        SPAN_KIND.server,
        context,
        parentContext,
        requestAttributes(x),
        startWall,
        sink.origin,
      );
      const trace: RequestTrace = { server, context, startWall, startMono: now(), attempts: 0 };
      x.state.set(policy, trace);
      // Until an attempt points it at its own span, upstream sees the server span as parent.
      replaceTraceFields(
        x.upstreamHeaders,
        formatTraceparent(traceId, context.spanId, true),
        state,
      );
      return undefined;
    },
    attempt(x, backend) {
      const trace = x.state.get(policy) as RequestTrace | undefined;
      if (trace === undefined) return NOTHING;
      return startAttempt(x, backend, trace);
    },
    done(x, status, bytes) {
      const trace = x.state.get(policy) as RequestTrace | undefined;
      if (trace === undefined) return;
      serverEnd(trace.server, x, status, bytes);
      trace.server.end(trace.startWall + (now() - trace.startMono), errorOf(status));
      sink.add(trace.server);
    },
  };

  function startAttempt(x: PolicyExchange, backend: BackendSpec, trace: RequestTrace): AttemptEnd {
    const n = ++trace.attempts;
    const context: SpanContext = {
      traceId: trace.context.traceId,
      spanId: ids.spanId(),
      traceFlags: 1,
      traceState: trace.context.traceState,
    };
    const attributes: Attributes = {
      "http.request.method": trace.server.attributes["http.request.method"],
      "server.address": backend.hostname,
      "server.port": backend.port,
      "lb.backend": backend.origin,
      "lb.attempt": n,
    };
    // OTel HTTP conventions: set from the first resend on.
    if (n > 1) attributes["http.request.resend_count"] = n - 1;
    const span = new SpanRecord(
      x.request.method,
      SPAN_KIND.client,
      context,
      trace.context,
      attributes,
      trace.startWall + (now() - trace.startMono),
      sink.origin,
    );
    setTraceparent(x.upstreamHeaders, formatTraceparent(context.traceId, context.spanId, true));
    return (status, error) => {
      const message = attemptEnd(span, status, error);
      span.end(trace.startWall + (now() - trace.startMono), message);
      sink.add(span);
    };
  }

  return policy;
}

/** OTel HTTP conventions: a server span is an error for a 5xx it answered. */
function errorOf(status: number): string | undefined {
  return status >= 500 ? `answered ${status}` : undefined;
}

/**
 * The upstream fields of a request not sampled: a canonical followed
 * context (and a tracestate that fit) stays as the client sent it, else the
 * fields are rewritten; a new trace gets ids with the sampled flag 0.
 */
function unsampled(
  up: HeaderPairs,
  parent: ReturnType<typeof parseTraceparent>,
  state: string | undefined,
  states: string[] | undefined,
  count: number,
  ids: TraceIds,
): void {
  if (parent !== undefined) {
    const unchanged = parent.canonical &&
      (states === undefined || (states.length === 1 && state === states[0]));
    if (unchanged) return;
    replaceTraceFields(up, formatTraceparent(parent.traceId, parent.parentId, false), state);
    return;
  }
  if (count === 0 && states === undefined) {
    up.push(["traceparent", formatTraceparent(ids.traceId(), ids.spanId(), false)]);
    return;
  }
  replaceTraceFields(up, formatTraceparent(ids.traceId(), ids.spanId(), false), undefined);
}

/** Removes the client's trace fields and adds these. */
function replaceTraceFields(up: HeaderPairs, traceparent: string, tracestate: string | undefined) {
  for (let i = up.length - 1; i >= 0; i--) {
    const name = up[i][0];
    if (name === "traceparent" || name === "tracestate") up.splice(i, 1);
  }
  up.push(["traceparent", traceparent]);
  if (tracestate !== undefined) up.push(["tracestate", tracestate]);
}

/** Points the upstream `traceparent` at an attempt's span (policies after this one may have moved it). */
function setTraceparent(up: HeaderPairs, value: string): void {
  for (let i = 0; i < up.length; i++) {
    if (up[i][0] === "traceparent") {
      (up as [string, string][])[i] = ["traceparent", value];
      return;
    }
  }
  up.push(["traceparent", value]);
}

/** A tracestate the lb passes on unchanged, as the API's `TraceState` (only `serialize` is read by the encoder). */
function fixedTraceState(value: string): TraceState {
  const same = (): TraceState => state;
  const state: TraceState = {
    get: (key) => value.split(",").find((m) => m.trim().startsWith(`${key}=`))?.split("=")[1],
    set: same,
    unset: same,
    serialize: () => value,
  };
  return state;
}
