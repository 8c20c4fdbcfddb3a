/**
 * A real OTLP/HTTP trace receiver for tests: `Deno.serve` on loopback port
 * 0, answering `POST /v1/traces` as a collector would, and decoding each
 * OTLP JSON request (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding)
 * into plain spans: hex ids checked for length, attribute values unwrapped
 * from their `AnyValue`, kinds and status codes as names. A body that is
 * not valid OTLP JSON fails the test that waits on it.
 *
 * @module
 */

/** A decoded attribute value. */
export type AttrValue = string | number | boolean | AttrValue[];

/** One span as the receiver decoded it. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Absent for a trace's first span. */
  readonly parentSpanId?: string;
  readonly traceState?: string;
  readonly name: string;
  readonly kind: "unspecified" | "internal" | "server" | "client" | "producer" | "consumer";
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttrValue>>;
  readonly status: { readonly code: "unset" | "ok" | "error"; readonly message?: string };
  /** The OTLP span flags (W3C flags in the low byte, remote-parent bits above). */
  readonly flags: number;
  /** The resource's and the scope's attributes and name. */
  readonly resource: Readonly<Record<string, AttrValue>>;
  readonly scope: string;
}

/** The running receiver. */
export interface OtlpReceiver extends AsyncDisposable {
  /** The base URL, for `--otlp-endpoint`. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  /** Export requests received (including refused ones). */
  readonly requests: number;
  /** The request fields of the last export. */
  readonly lastHeaders: Headers | undefined;
  /** Problems decoding a body (each fails the waiters). */
  readonly errors: readonly string[];
  /** The status the next exports get (200 by default). */
  status: number;
  /** Spans each accepted export reports refused (`partialSuccess.rejectedSpans`); 0 by default. */
  rejected: number;
  /** Resolves once `test(spans)` holds, or rejects after `timeoutMs`. */
  waitFor(test: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
const CODES = ["unset", "ok", "error"] as const;

type Json = Record<string, unknown>;

function hexId(value: unknown, digits: number, what: string): string {
  if (typeof value !== "string" || value.length !== digits || !/^[0-9a-f]+$/.test(value)) {
    throw new Error(`${what} is not ${digits} lower-case hex digits: ${JSON.stringify(value)}`);
  }
  return value;
}

/** An OTLP `AnyValue` as a plain value. */
function anyValue(v: Json): AttrValue {
  if ("stringValue" in v) return String(v.stringValue);
  if ("boolValue" in v) return Boolean(v.boolValue);
  // int64 may come as a JSON number or a decimal string.
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) {
    return ((v.arrayValue as Json).values as Json[] ?? []).map(anyValue);
  }
  throw new Error(`unsupported AnyValue ${JSON.stringify(v)}`);
}

function attributes(list: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of (list as Json[] | undefined) ?? []) {
    out[String(kv.key)] = anyValue(kv.value as Json);
  }
  return out;
}

/** Decodes one `ExportTraceServiceRequest` in OTLP JSON. */
export function decodeTraces(body: string): ReceivedSpan[] {
  const request = JSON.parse(body) as Json;
  if (!Array.isArray(request.resourceSpans)) throw new Error("no resourceSpans");
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans as Json[]) {
    const resource = attributes((rs.resource as Json | undefined)?.attributes);
    for (const ss of (rs.scopeSpans as Json[]) ?? []) {
      const scope = String((ss.scope as Json | undefined)?.name ?? "");
      for (const s of (ss.spans as Json[]) ?? []) {
        const status = (s.status as Json | undefined) ?? {};
        const parent = s.parentSpanId;
        out.push({
          traceId: hexId(s.traceId, 32, "traceId"),
          spanId: hexId(s.spanId, 16, "spanId"),
          parentSpanId: parent === undefined || parent === ""
            ? undefined
            : hexId(parent, 16, "parentSpanId"),
          traceState: typeof s.traceState === "string" && s.traceState !== ""
            ? s.traceState
            : undefined,
          name: String(s.name),
          kind: KINDS[Number(s.kind ?? 0)],
          startNs: BigInt(String(s.startTimeUnixNano)),
          endNs: BigInt(String(s.endTimeUnixNano)),
          attributes: attributes(s.attributes),
          status: {
            code: CODES[Number(status.code ?? 0)],
            message: typeof status.message === "string" ? status.message : undefined,
          },
          flags: Number(s.flags ?? 0),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** Starts a receiver on loopback port 0. */
export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  let requests = 0;
  let lastHeaders: Headers | undefined;
  let closed: Promise<void> | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    if (new URL(req.url).pathname !== "/v1/traces" || req.method !== "POST") {
      return new Response("not found", { status: 404 });
    }
    requests++;
    lastHeaders = req.headers;
    if (receiver.status !== 200) {
      return new Response(JSON.stringify({ message: "refused" }), { status: receiver.status });
    }
    try {
      if (!req.headers.get("content-type")?.startsWith("application/json")) {
        throw new Error(`content-type ${req.headers.get("content-type")}`);
      }
      spans.push(...decodeTraces(body));
    } catch (err) {
      errors.push(String(err));
    }
    for (const wake of waiters) wake();
    const answer = receiver.rejected > 0
      ? { partialSuccess: { rejectedSpans: receiver.rejected, errorMessage: "over quota" } }
      : {};
    return Response.json(answer);
  });
  const receiver: OtlpReceiver = {
    url: `http://127.0.0.1:${server.addr.port}`,
    spans,
    get requests() {
      return requests;
    },
    get lastHeaders() {
      return lastHeaders;
    },
    errors,
    status: 200,
    rejected: 0,
    waitFor(test, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (errors.length > 0) done(new Error(`bad export: ${errors.join("; ")}`));
          else if (test(spans)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`timed out; ${spans.length} spans so far`)),
          timeoutMs,
        );
        const done = (err?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve();
        };
        waiters.add(check);
        check();
      });
    },
    close: () => closed ??= server.shutdown(),
    [Symbol.asyncDispose]: () => closed ??= server.shutdown(),
  };
  return receiver;
}
