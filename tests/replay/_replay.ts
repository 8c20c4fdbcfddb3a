/**
 * Helpers for the replay suites: a checked configuration from YAML text
 * (as `lb replay --config` reads it), and access-log lines and records.
 *
 * @module
 */

import { parseConfigFile } from "../../lib/config/file.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import type { LbConfig } from "../../lib/config/types.ts";
import type { ReplayRecord } from "../../lib/replay/types.ts";

/** The configuration `yaml` describes, checked as `lb --config` checks it. */
export function configOf(yaml: string): LbConfig {
  const file = parseConfigFile("test.yaml", yaml);
  const command = parseLbArgs(["--config", "test.yaml"], {}, () => "secret", file);
  if (!("config" in command)) throw new Error(command.kind);
  return command.config;
}

/** A JSON access-log line with every default field; `fields` overrides them. */
export function logLine(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    time: "2026-12-02T10:00:00.000Z",
    client: "192.0.2.1",
    user: null,
    method: "GET",
    path: "/",
    protocol: "HTTP/1.1",
    status: 200,
    bytes: 5,
    duration_ms: 1.5,
    host: "site.test",
    referer: null,
    user_agent: null,
    route: "site",
    pool: "default",
    backend: "http://127.0.0.1:9001",
    request_id: null,
    ...fields,
  });
}

/** A record as the reader makes it; `fields` overrides the defaults. */
export function record(fields: Partial<ReplayRecord> = {}): ReplayRecord {
  return {
    line: 1,
    at: Date.parse("2026-12-02T10:00:00.000Z"),
    method: "GET",
    path: "/",
    host: "site.test",
    client: "192.0.2.1",
    status: 200,
    route: "site",
    pool: "default",
    backend: "http://127.0.0.1:9001",
    ...fields,
  };
}
