/**
 * Access-log lines from {@link AccessRecord}s: JSON lines with a chosen
 * field set, and templates (NGINX's `combined`, the Common Log Format, or
 * the operator's own). Each field has a text form for templates (escaped
 * as NGINX escapes, `-` when absent, as NGINX writes a missing variable)
 * and a JSON form (`null` when absent). A formatter is built once per
 * configuration; per record it only joins precomputed parts and values.
 *
 * @module
 */

import { bytesToText, escapeNginx, jsonString } from "./access_escape.ts";
import { asciiJson } from "./explain.ts";
import type { AccessField, AccessRecord } from "./access_record.ts";
import { LogClock } from "./access_time.ts";
import {
  COMBINED_TEMPLATE,
  COMMON_TEMPLATE,
  parseAccessTemplate,
  type TemplatePart,
} from "./access_template.ts";

/** One record as one line, without its newline. */
export type AccessFormatter = (record: AccessRecord) => string;

type Value = (r: AccessRecord, clock: LogClock) => string;

/** The request line, as the client sent it (a byte string). */
function requestLine(r: AccessRecord): string {
  return r.method + " " + r.path + " " + r.protocol;
}

/** A field from the wire, NGINX-escaped: `-` when it was not sent, `` when sent empty (as NGINX). */
function wire(v: string | undefined): string {
  return v === undefined ? "-" : escapeNginx(v, true);
}

/** Text from the lb itself (names, the user), NGINX-escaped; `-` when absent or empty. */
function own(v: string | undefined): string {
  return v === undefined || v === "" ? "-" : escapeNginx(v, false);
}

/** Each field in a template: NGINX's escaping, `-` for nothing. */
const TEXT: Readonly<Record<AccessField, Value>> = {
  time: (r, c) => c.iso(r.time),
  time_local: (r, c) => c.local(r.time),
  client: (r) => own(r.client),
  user: (r) => own(r.user),
  method: (r) => escapeNginx(r.method, true),
  path: (r) => escapeNginx(r.path, true),
  protocol: (r) => r.protocol,
  request: (r) => escapeNginx(requestLine(r), true),
  status: (r) => String(r.status),
  bytes: (r) => String(r.bytes),
  duration_ms: (r) => String(r.durationMs),
  host: (r) => r.host === "" ? "-" : escapeNginx(r.host, true),
  referer: (r) => wire(r.referer),
  user_agent: (r) => wire(r.userAgent),
  route: (r) => own(r.route),
  pool: (r) => own(r.pool),
  backend: (r) => own(r.backend),
  request_id: (r) => own(r.requestId),
  explain: (r) => r.explain === undefined ? "-" : escapeNginx(asciiJson(r.explain), false),
};

/** A JSON string from the wire, decoded as UTF-8; `null` when absent. */
function wireJson(v: string | undefined): string {
  return v === undefined ? "null" : jsonString(bytesToText(v));
}

/** Each field in a JSON line: strings, numbers, `null` for nothing. */
const JSON_VALUE: Readonly<Record<AccessField, Value>> = {
  time: (r, c) => `"${c.iso(r.time)}"`,
  time_local: (r, c) => `"${c.local(r.time)}"`,
  client: (r) => jsonString(r.client),
  user: (r) => r.user === undefined ? "null" : jsonString(r.user),
  method: (r) => jsonString(r.method),
  path: (r) => jsonString(bytesToText(r.path)),
  protocol: (r) => jsonString(r.protocol),
  request: (r) => jsonString(bytesToText(requestLine(r))),
  status: (r) => String(r.status),
  bytes: (r) => String(r.bytes),
  duration_ms: (r) => String(r.durationMs),
  host: (r) => r.host === "" ? "null" : jsonString(bytesToText(r.host)),
  referer: (r) => wireJson(r.referer),
  user_agent: (r) => wireJson(r.userAgent),
  route: (r) => jsonString(r.route),
  pool: (r) => jsonString(r.pool),
  backend: (r) => jsonString(r.backend),
  request_id: (r) => r.requestId === undefined ? "null" : jsonString(r.requestId),
  explain: (r) => r.explain === undefined ? "null" : asciiJson(r.explain),
};

/** JSON lines with `fields`, in that order. */
export function jsonFormatter(
  fields: readonly AccessField[],
  clock: LogClock = new LogClock(),
): AccessFormatter {
  const keys = fields.map((f, i) => `${i === 0 ? "{" : ","}"${f}":`);
  const values = fields.map((f) => JSON_VALUE[f]);
  // An explained request's record carries `explain` whether or not the fields name it.
  const named = fields.includes("explain");
  const explained = (r: AccessRecord) =>
    `${keys.length === 0 ? "{" : ","}"explain":${asciiJson(r.explain)}`;
  return (r) => {
    let line = "";
    for (let i = 0; i < keys.length; i++) line += keys[i] + values[i](r, clock);
    if (r.explain !== undefined && !named) line += explained(r);
    return line.length === 0 ? "{}" : line + "}";
  };
}

/** Lines from template parts (see `access_template.ts`). */
export function templateFormatter(
  parts: readonly TemplatePart[],
  clock: LogClock = new LogClock(),
): AccessFormatter {
  const steps = parts.map((p) => "text" in p ? p.text : TEXT[p.field]);
  return (r) => {
    let line = "";
    for (const s of steps) line += typeof s === "string" ? s : s(r, clock);
    return line;
  };
}

/** What a formatter is made from: the config's `accessLogOutput` without the destination. */
export interface AccessFormatOptions {
  /** Every format but `log`, which goes through the lb's own log. */
  readonly format: "json" | "combined" | "common" | "template";
  /** The JSON lines' fields. */
  readonly fields: readonly AccessField[];
  /** The `template` format's text (already checked by the config). */
  readonly template: string;
}

/** The formatter for `options`; throws on a template the config should have refused. */
export function accessFormatter(
  options: AccessFormatOptions,
  clock: LogClock = new LogClock(),
): AccessFormatter {
  if (options.format === "json") return jsonFormatter(options.fields, clock);
  const text = options.format === "combined"
    ? COMBINED_TEMPLATE
    : options.format === "common"
    ? COMMON_TEMPLATE
    : options.template;
  const parts = parseAccessTemplate(text);
  if (typeof parts === "string") throw new Error(`access-log template: ${parts}`);
  return templateFormatter(parts, clock);
}
