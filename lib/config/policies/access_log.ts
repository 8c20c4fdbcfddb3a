/**
 * `policies.access-log`: `false` keeps a route's requests out of the access
 * log (health endpoints, noisy assets); `true` puts them back under a
 * default that turned it off. Where and how the log is written are global
 * options (`--access-log`, `--access-log-format`, `--access-log-file`).
 *
 * @module
 */

import type { PolicyParser } from "./parser.ts";
import type { RouteAccessLogConfig } from "./types.ts";

/** Parses `policies.access-log`. */
export const accessLogPolicy: PolicyParser<RouteAccessLogConfig> = {
  schema: { type: "boolean", description: "whether this route's requests are logged (true)" },
  describe: (c) => ({ enabled: c.enabled }),
  parse(_p, value) {
    return { enabled: value === true };
  },
};
