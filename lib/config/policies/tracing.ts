/**
 * `policies.tracing`: W3C trace context on a route, and spans for its
 * requests and their upstream attempts. The route's block says how much is
 * sampled and whose incoming context is followed; where the spans go is
 * process-wide (`--otlp-*`), because one exporter per thread serves every
 * route. Without `--otlp-endpoint` tracing is off: {@link withTraceExport}
 * drops the routes' `tracing` entries, so they cost nothing at all.
 *
 * @module
 */

import type { Fail } from "../kinds.ts";
import type { PolicyParser } from "./parser.ts";
import type { OtlpExportConfig, PolicySet, TraceFollow, TracingConfig } from "./types.ts";

const FOLLOW: readonly TraceFollow[] = ["any", "trusted", "never"];

/** Parses `policies.tracing`. */
export const tracingPolicy: PolicyParser<TracingConfig> = {
  schema: {
    oneOf: [{ type: "boolean", enum: [true] }, {
      type: "object",
      additionalProperties: false,
      properties: {
        sample: {
          type: "number",
          minimum: 0,
          maximum: 1,
          description:
            "share of new traces recorded, 0-1 (1); a followed parent's sampled flag decides for its requests",
        },
        follow: {
          enum: [...FOLLOW],
          description:
            "whose incoming traceparent is continued: any client (any), --trust-proxy peers only (trusted), nobody (never)",
        },
      },
    }],
    description:
      "W3C trace context and OTLP spans per request and upstream attempt (needs --otlp-endpoint)",
  },
  describe: (c) => ({
    sample: c.sample,
    follow: c.follow,
    endpoint: c.export?.endpoint,
    serviceName: c.export?.serviceName,
  }),
  parse(_p, value) {
    // The schema has checked the shape and the range; an unset field takes its default.
    const raw = value === true ? {} : value as { sample?: number; follow?: TraceFollow };
    // `export` is added after the routes are read (withTraceExport).
    return { sample: raw.sample ?? 1, follow: raw.follow ?? "any" };
  },
};

/**
 * The routes with the exporter settings put into their `tracing` entries,
 * or, without an exporter, with those entries removed (and a route left
 * with no policy at all gets none). Pure.
 */
export function withTraceExport<R extends { readonly policies?: PolicySet }>(
  routes: readonly R[],
  exporter: OtlpExportConfig | undefined,
): R[] {
  return routes.map((route) => {
    const tracing = route.policies?.tracing;
    if (tracing === undefined) return route;
    if (exporter !== undefined) {
      return {
        ...route,
        policies: { ...route.policies, tracing: { ...tracing, export: exporter } },
      };
    }
    const { tracing: _off, ...rest } = route.policies!;
    if (Object.keys(rest).length > 0) return { ...route, policies: rest };
    const { policies: _none, ...bare } = route;
    return bare as unknown as R;
  });
}

/** The `--otlp-*` values, as the option table reads them. */
export interface OtlpOptionValues {
  readonly endpoint: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly serviceName: string;
  readonly queueSize: number;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** The exporter settings, or undefined when `--otlp-endpoint` is empty (tracing off). */
export function otlpExport(v: OtlpOptionValues): OtlpExportConfig | undefined {
  if (v.endpoint === "") return undefined;
  return {
    endpoint: v.endpoint,
    url: `${v.endpoint}/v1/traces`,
    headers: v.headers,
    serviceName: v.serviceName,
    queueSize: v.queueSize,
    // A batch can't be larger than the queue it is taken from.
    batchSize: Math.min(v.batchSize, v.queueSize),
    intervalMs: v.intervalMs,
    timeoutMs: v.timeoutMs,
  };
}

/**
 * Reads `--otlp-endpoint`: the OTLP/HTTP base URL (as
 * `OTEL_EXPORTER_OTLP_ENDPOINT`; spans go to `<base>/v1/traces`), without
 * a trailing slash; empty stays empty (off).
 */
export function readOtlpEndpoint(raw: string, fail: Fail): string {
  const text = raw.trim();
  if (text === "") return "";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`"${raw}" is not a URL (expected http://host:4318)`);
    return "";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail(`"${raw}" must be an http:// or https:// URL`);
  } else if (url.username !== "" || url.password !== "") {
    // fetch refuses credentials in a URL; they belong in a header anyway.
    fail(`"${raw}" has credentials in it: send them with --otlp-headers`);
  } else if (url.search !== "" || url.hash !== "") {
    fail(`"${raw}" must not have a query or fragment (the base URL; /v1/traces is added)`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** Fields the exporter sets itself, or that would break the request's framing. */
const RESERVED = new Set([
  "content-type",
  "content-length",
  "transfer-encoding",
  "host",
  "connection",
]);

/**
 * Reads `--otlp-headers`: `name=value` pairs separated by commas, values
 * percent-decoded (the format of `OTEL_EXPORTER_OTLP_HEADERS`).
 */
export function readOtlpHeaders(raw: string, fail: Fail): [string, string][] {
  const out: [string, string][] = [];
  for (const item of raw.split(",")) {
    if (item.trim() === "") continue;
    const eq = item.indexOf("=");
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 || !TOKEN.test(name)) {
      fail(`"${item.trim()}" is not name=value with a field name`);
      continue;
    }
    if (RESERVED.has(name)) {
      fail(`${name} can't be set: the exporter sets it`);
      continue;
    }
    let value: string;
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      fail(`the value of ${name} is not percent-encoded text`);
      continue;
    }
    // RFC 9110 §5.5: no CR, LF or NUL in a field value.
    if (/[\r\n\0]/.test(value)) fail(`the value of ${name} has a line break or NUL`);
    else out.push([name, value]);
  }
  return out;
}
