/**
 * One line of a JSON access log (`--access-log-format json`) to a
 * {@link ReplayRecord}, purely. A replay needs `time`, `client`, `method`,
 * `path`, `host`, `status`, `route`, `pool` and `backend` (the default
 * `--access-log-fields` have them all); `duration_ms` and `user` are read
 * when present. A line that is not JSON, or a request record missing one of
 * those or with one of the wrong type, is malformed and says why; a blank
 * line, or a JSON object that is no request record (no `method` and no
 * `status`: the lb's own log lines, say), is skipped.
 *
 * @module
 */

import type { ReplayRecord } from "./types.ts";

/** What one line holds. */
export type LineResult =
  | { readonly kind: "record"; readonly record: ReplayRecord }
  | { readonly kind: "skip" }
  | { readonly kind: "malformed"; readonly reason: string };

/** The fields a replay can't do without, as `--access-log-fields` names them. */
export const REQUIRED_FIELDS = [
  "time",
  "client",
  "method",
  "path",
  "host",
  "status",
  "route",
  "pool",
  "backend",
] as const;

const SKIP: LineResult = { kind: "skip" };

/** Reads line number `line` (from 1), its text without the line feed. Pure. */
export function parseLine(text: string, line: number): LineResult {
  if (isBlank(text)) return SKIP;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return malformed("not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return malformed("not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.method === undefined && o.status === undefined) return SKIP;
  for (const name of REQUIRED_FIELDS) {
    if (!(name in o)) return malformed(`no "${name}" field`);
  }
  const { time, client, method, path, host, status, route, pool, backend } = o;
  if (typeof time !== "string") return wrong("time", "an ISO 8601 time");
  const done = Date.parse(time);
  if (Number.isNaN(done)) return wrong("time", "an ISO 8601 time");
  if (typeof status !== "number" || !Number.isInteger(status)) return wrong("status", "a number");
  if (host !== null && typeof host !== "string") return wrong("host", "a string or null");
  for (const [name, value] of [["client", client], ["method", method], ["path", path]] as const) {
    if (typeof value !== "string") return wrong(name, "a string");
  }
  for (const [name, value] of [["route", route], ["pool", pool], ["backend", backend]] as const) {
    if (typeof value !== "string") return wrong(name, "a string");
  }
  const duration = typeof o.duration_ms === "number" ? o.duration_ms : 0;
  const record: ReplayRecord = {
    line,
    // The log's time is when the reply was done; a policy saw the request arrive.
    at: done - duration,
    method: method as string,
    path: path as string,
    host: host === "" ? null : host as string | null,
    client: client as string,
    status,
    route: route as string,
    pool: pool as string,
    backend: backend as string,
    ...(typeof o.user === "string" && { user: o.user }),
  };
  return { kind: "record", record };
}

function malformed(reason: string): LineResult {
  return { kind: "malformed", reason };
}

function wrong(field: string, expected: string): LineResult {
  return malformed(`"${field}" is not ${expected}`);
}

/** Whether the line holds only spaces, tabs and a carriage return. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
