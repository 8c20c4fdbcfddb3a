/**
 * `policies.basic-auth`: HTTP Basic authentication (RFC 7617) against
 * bcrypt hashes, given inline as `users` (user -> hash), in an `htpasswd`
 * file, or both. The file is read when the config is loaded
 * (`htpasswd.ts`); its path is relative to the config file's directory.
 * Every hash is checked here, so a weak scheme or a malformed line stops
 * the lb (or a reload) with the line named, instead of locking a user out
 * at request time.
 *
 * @module
 */

import { parseDuration } from "../../core/duration.ts";
import { hashProblem, parseHtpasswd, policyFilePath, userProblem } from "./htpasswd.ts";
import type { PolicyParser, PolicyWhere } from "./parser.ts";
import type { BasicAuthConfig } from "./types.ts";

/** Visible ASCII and space: what a realm may hold (it is sent as a quoted-string). */
const REALM = /^[\x20-\x7e]+$/;

interface RawBasicAuth {
  readonly realm?: string;
  readonly users?: Record<string, string>;
  readonly htpasswd?: string;
  readonly strip?: boolean;
  readonly "cache-ttl"?: string;
  readonly "cache-size"?: number;
  readonly "max-pending"?: number;
}

/** Parses `policies.basic-auth`. */
export const basicAuthPolicy: PolicyParser<BasicAuthConfig> = {
  schema: {
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    description: "HTTP Basic authentication against bcrypt hashes (401 without valid credentials)",
    properties: {
      realm: { type: "string", description: "the realm shown to the user (restricted)" },
      users: {
        type: "object",
        additionalProperties: { type: "string" },
        description: "user \u2192 bcrypt hash ($2y$, $2b$, $2a$)",
      },
      htpasswd: {
        type: "string",
        description:
          "an htpasswd file of user:bcrypt-hash lines (htpasswd -B), relative to the config file; read on every reload",
      },
      strip: {
        type: "boolean",
        description: "remove Authorization before the request goes upstream (true)",
      },
      "cache-ttl": {
        type: "string",
        description: "how long a verified user and password are remembered (1m; 0 turns it off)",
      },
      "cache-size": {
        type: "integer",
        minimum: 1,
        maximum: 1_000_000,
        description: "verifications remembered, least recently used first out (1000)",
      },
      "max-pending": {
        type: "integer",
        minimum: 1,
        maximum: 10_000,
        description: "password checks waiting for the bcrypt thread; past it, 503 (16)",
      },
    },
  },
  describe: (c) => ({
    realm: c.realm,
    users: c.users.size,
    ...(c.htpasswd !== undefined && { htpasswd: c.htpasswd }),
    strip: c.strip,
    cacheTtlMs: c.cacheTtlMs,
    cacheSize: c.cacheSize,
    maxPending: c.maxPending,
  }),
  parse(p, value, where) {
    const raw = value as RawBasicAuth;
    const at = where.at;
    let reported = false;
    const report = (key: string, message: string) => {
      reported = true;
      p.at(key, message);
    };
    const realm = raw.realm ?? "restricted";
    if (!REALM.test(realm)) {
      report(`${at}.realm`, "a realm is 1 or more visible ASCII characters or spaces");
    }
    const users = new Map<string, string>();
    // Where each user came from, for the message about one given twice.
    const from = new Map<string, string>();
    for (const [user, hash] of Object.entries(raw.users ?? {})) {
      const bad = userProblem(user) ?? hashProblem(hash);
      if (bad !== undefined) report(`${at}.users.${user}`, bad);
      else {
        users.set(user, hash);
        from.set(user, "users");
      }
    }
    if (raw.htpasswd !== undefined) readFile(report, raw.htpasswd, where, users, from);
    if (raw.users === undefined && raw.htpasswd === undefined) {
      report(at, "needs users, an htpasswd file, or both");
    } else if (users.size === 0 && !reported) {
      p.at(at, "lets nobody in: neither users nor the htpasswd file names a user");
    }
    const ttlText = raw["cache-ttl"] ?? "1m";
    const cacheTtlMs = parseDuration(ttlText);
    if (cacheTtlMs === undefined) {
      p.at(`${at}.cache-ttl`, `"${ttlText}" is not a duration (e.g. 30s, 1m, 0)`);
    }
    const config: BasicAuthConfig = {
      realm,
      users,
      strip: raw.strip ?? true,
      cacheTtlMs: cacheTtlMs ?? 0,
      cacheSize: raw["cache-size"] ?? 1000,
      maxPending: raw["max-pending"] ?? 16,
    };
    return raw.htpasswd === undefined ? config : { ...config, htpasswd: raw.htpasswd };
  },
};

/** Adds the users of htpasswd file `name` (read at load) to `users`, reporting each bad line. */
function readFile(
  report: (at: string, message: string) => void,
  name: string,
  where: PolicyWhere,
  users: Map<string, string>,
  from: Map<string, string>,
): void {
  const at = `${where.at}.htpasswd`;
  const file = where.files?.get(name);
  if (file === undefined) {
    return report(
      at,
      "the file was not read: a config naming one must be loaded with loadConfigFile",
    );
  }
  if ("error" in file) return report(at, file.error);
  const shown = policyFilePath(where.file, name);
  const entries = parseHtpasswd(file.text, (line, message) => {
    report(at, `${shown} line ${line}: ${message}`);
  });
  for (const { user, hash, line } of entries) {
    const other = from.get(user);
    if (other !== undefined) {
      report(at, `${shown} line ${line}: user "${user}" is also given in ${other}`);
      continue;
    }
    users.set(user, hash);
    from.set(user, `${shown} line ${line}`);
  }
}
