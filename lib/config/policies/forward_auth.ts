/**
 * `policies.forward-auth`: asks an auth service about each request before
 * it goes upstream (Traefik's ForwardAuth, NGINX's `auth_request`). A 2xx
 * answer lets it through with the `copy-headers` fields copied on; any
 * other answer goes to the client as it is; a failure or timeout answers
 * `on-error` and never lets the request through.
 *
 * @module
 */

import { parseDuration } from "../../core/duration.ts";
import type { Problems } from "../cli.ts";
import { formatSize, parseSize } from "../kinds.ts";
import { PROTECTED_FIELDS } from "./headers.ts";
import type { PolicyParser } from "./parser.ts";
import type { ForwardAuthConfig } from "./types.ts";

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** The largest auth answer body read (it is held in memory while the request waits). */
const MAX_BODY_LIMIT = 1024 * 1024;

const FIELD_LIST = { type: "array", items: { type: "string" } } as const;

interface RawForwardAuth {
  readonly url: string;
  readonly "request-headers"?: string[];
  readonly "copy-headers"?: string[];
  readonly "user-header"?: string;
  readonly timeout?: string;
  readonly "on-error"?: 401 | 403 | 503;
  readonly "max-body"?: string | number;
}

/** Parses `policies.forward-auth`. */
export const forwardAuthPolicy: PolicyParser<ForwardAuthConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["url"],
    description:
      "asks an auth service first: 2xx lets the request through, anything else is the answer",
    properties: {
      url: {
        type: "string",
        description: "the auth service's URL (http:// or https://); it gets a GET per request",
      },
      "request-headers": {
        ...FIELD_LIST,
        description: "client fields sent to it (all but hop-by-hop and framing)",
      },
      "copy-headers": {
        ...FIELD_LIST,
        description: "fields of its 2xx answer copied upstream, replacing the client's ([])",
      },
      "user-header": {
        type: "string",
        description: "the field of its 2xx answer naming the user, for the access log",
      },
      timeout: {
        type: "string",
        description: "it must have answered whole within this (5s)",
      },
      "on-error": {
        type: "integer",
        enum: [401, 403, 503],
        description: "the status when it fails, times out or answers too much (503)",
      },
      "max-body": {
        oneOf: [{ type: "string" }, { type: "integer", minimum: 0 }],
        description: "the most body bytes of its answer read and relayed (64KiB)",
      },
    },
  },
  describe: (c) => ({
    url: c.url,
    ...(c.requestHeaders && { requestHeaders: c.requestHeaders }),
    copyHeaders: c.copyHeaders,
    ...(c.userHeader && { userHeader: c.userHeader }),
    timeoutMs: c.timeoutMs,
    onError: c.onErrorStatus,
    maxBodyBytes: c.maxBodyBytes,
  }),
  parse(p, value, where) {
    const raw = value as RawForwardAuth;
    const at = where.at;
    checkUrl(p, raw.url, `${at}.url`);
    const timeoutText = raw.timeout ?? "5s";
    const timeoutMs = parseDuration(timeoutText);
    if (timeoutMs === undefined || timeoutMs <= 0) {
      p.at(`${at}.timeout`, `"${timeoutText}" is not a positive duration (e.g. 500ms, 5s)`);
    }
    const bodyText = String(raw["max-body"] ?? "64KiB");
    const maxBodyBytes = parseSize(bodyText);
    if (maxBodyBytes === undefined || maxBodyBytes > MAX_BODY_LIMIT) {
      p.at(
        `${at}.max-body`,
        `"${bodyText}" is not a size up to ${formatSize(MAX_BODY_LIMIT)} (e.g. 16KiB, 0)`,
      );
    }
    const config: ForwardAuthConfig = {
      url: raw.url,
      copyHeaders: fields(p, raw["copy-headers"] ?? [], `${at}.copy-headers`),
      timeoutMs: timeoutMs ?? 5000,
      onErrorStatus: raw["on-error"] ?? 503,
      maxBodyBytes: maxBodyBytes ?? 0,
    };
    const out: { -readonly [K in keyof ForwardAuthConfig]: ForwardAuthConfig[K] } = config;
    if (raw["request-headers"] !== undefined) {
      out.requestHeaders = fields(p, raw["request-headers"], `${at}.request-headers`);
    }
    if (raw["user-header"] !== undefined) {
      out.userHeader = fields(p, [raw["user-header"]], `${at}.user-header`)[0];
    }
    return out;
  },
};

/** Refuses what the subrequest could not be sent to. */
function checkUrl(p: Problems, text: string, at: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return p.at(at, `"${text}" is not a URL (expected http://auth:9000/check)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    p.at(at, `"${text}" is not an http:// or https:// URL`);
  } else if (url.username !== "" || url.password !== "") {
    p.at(at, "credentials in the URL are not sent; leave them out");
  } else if (url.hash !== "") p.at(at, "a URL fragment is never sent; leave it out");
}

/** Field names, lower-case, each once; framing and connection fields are the proxy's own. */
function fields(p: Problems, names: readonly string[], at: string): string[] {
  const out = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(lower)) p.at(at, `"${name}" is not a field name (RFC 9110 §5.1 token)`);
    else if (PROTECTED_FIELDS.has(lower)) {
      p.at(at, `${lower} is a hop-by-hop or framing field; the proxy manages it`);
    } else out.add(lower);
  }
  return [...out];
}
