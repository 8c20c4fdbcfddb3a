/**
 * htpasswd files for `policies.basic-auth`: which hashes are accepted, the
 * file's lines, and reading the files a config names. Only bcrypt
 * (`$2a$`, `$2b$`, `$2y$`, as `htpasswd -B` writes) is accepted: the other
 * schemes htpasswd knows (MD5 `$apr1$`, `{SHA}`, crypt, plain text) are
 * fast enough to brute-force from a leaked file, so a file holding one is
 * a configuration error naming its line rather than a silent weak spot.
 *
 * Parsing is pure; {@link readPolicyFiles} is the one part that reads the
 * disk, called when the config file is loaded (`file.ts`), so the config
 * parser stays a pure function of what was read, `--check` checks the
 * file too, every reload reads it again, and worker threads get the users
 * with the config instead of each reading the file.
 *
 * @module
 */

import { dirname, isAbsolute, join } from "node:path";

/** bcrypt as crypt(3) writes it: version, two-digit cost, 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** The costs accepted: what Apache's `htpasswd -C` allows (4-17; 17 is ~10 s a check here). */
export const BCRYPT_COSTS = { min: 4, max: 17 } as const;

/** Control characters (RFC 5234 CTL), which RFC 7617 §2 bars from user-ids and passwords. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CTL = /[\x00-\x1f\x7f]/;

/** Schemes recognised only to name them in the message. */
const OTHER_SCHEMES: readonly (readonly [RegExp, string])[] = [
  [/^\$apr1\$/, "an MD5 (apr1) hash"],
  [/^\{SHA\}/, "a SHA-1 hash"],
  [/^\$1\$/, "an MD5-crypt hash"],
  [/^\$5\$/, "a SHA-256-crypt hash"],
  [/^\$6\$/, "a SHA-512-crypt hash"],
  [/^\$argon2/, "an Argon2 hash"],
  [/^\$2[^aby]\$/, "a bcrypt hash of an unsupported version"],
  [/^[./0-9A-Za-z]{13}$/, "a DES crypt hash"],
];

/** What is wrong with `hash` as a password hash here, or undefined when it is usable bcrypt. Pure. */
export function hashProblem(hash: string): string | undefined {
  const m = BCRYPT.exec(hash);
  if (m) {
    const cost = Number(m[1]);
    if (cost < BCRYPT_COSTS.min || cost > BCRYPT_COSTS.max) {
      return `bcrypt cost ${cost} is outside ${BCRYPT_COSTS.min}-${BCRYPT_COSTS.max}`;
    }
    return undefined;
  }
  const scheme = OTHER_SCHEMES.find(([re]) => re.test(hash))?.[1] ?? "not a bcrypt hash";
  return `${scheme}; only bcrypt ($2y$, $2b$, $2a$: htpasswd -B) is accepted`;
}

/** The bcrypt cost of a hash {@link hashProblem} accepted. */
export function bcryptCost(hash: string): number {
  return Number(hash.slice(4, 6));
}

/** What is wrong with `user` as a Basic user-id, or undefined (RFC 7617 §2: no `:`, no controls). Pure. */
export function userProblem(user: string): string | undefined {
  if (user === "") return "an empty user name";
  if (user.includes(":")) return `user "${user}" contains ":"`;
  if (CTL.test(user)) return `user "${user}" contains a control character`;
  return undefined;
}

/** One user of an htpasswd file. */
export interface HtpasswdEntry {
  readonly user: string;
  readonly hash: string;
  /** 1-based, for messages. */
  readonly line: number;
}

/**
 * The users of an htpasswd file's text: `user:hash` lines; blank lines
 * and `#` comments are skipped, CR and trailing blanks ignored. Each bad
 * line is reported to `problem` with its number, and left out. Pure.
 */
export function parseHtpasswd(
  text: string,
  problem: (line: number, message: string) => void,
): HtpasswdEntry[] {
  const out: HtpasswdEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/[\r \t]+$/, "");
    const n = i + 1;
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon === -1) {
      problem(n, "not a user:hash line");
      continue;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const bad = userProblem(user) ?? hashProblem(hash);
    if (bad !== undefined) {
      problem(n, user !== "" && !bad.startsWith("user") ? `user "${user}": ${bad}` : bad);
      continue;
    }
    const first = seen.get(user);
    if (first !== undefined) {
      problem(n, `user "${user}" is already on line ${first}`);
      continue;
    }
    seen.set(user, n);
    out.push({ user, hash, line: n });
  }
  return out;
}

/** A file a policy names, as read when the config was loaded: its text, or why it could not be. */
export type PolicyFile = { readonly text: string } | { readonly error: string };

/** The parts of a checked config file that name policy files. */
interface NamesFiles {
  /** The config file's path, which relative paths are read against. */
  readonly path: string;
  readonly policies?: Readonly<Record<string, unknown>>;
  readonly routes?: readonly { readonly policies?: Readonly<Record<string, unknown>> }[];
}

/** Where `file` (as written in the config at `configPath`) is on disk: relative to the config's directory. */
export function policyFilePath(configPath: string, file: string): string {
  return isAbsolute(file) ? file : join(dirname(configPath), file);
}

/** The htpasswd files a config's `policies` blocks name, as written, each once. Pure. */
export function policyFileNames(config: NamesFiles): string[] {
  const names = new Set<string>();
  const blocks = [config.policies, ...(config.routes ?? []).map((r) => r.policies)];
  for (const block of blocks) {
    const auth = block?.["basic-auth"] as { htpasswd?: unknown } | false | undefined;
    if (auth && typeof auth.htpasswd === "string") names.add(auth.htpasswd);
  }
  return [...names];
}

/** Reads every file {@link policyFileNames} lists: path as written -> its text or the error. */
export async function readPolicyFiles(config: NamesFiles): Promise<Map<string, PolicyFile>> {
  const out = new Map<string, PolicyFile>();
  await Promise.all(
    policyFileNames(config).map(async (name) => {
      const path = policyFilePath(config.path, name);
      try {
        out.set(name, { text: await Deno.readTextFile(path) });
      } catch (err) {
        out.set(name, { error: `can't read ${path} (${(err as Error).message})` });
      }
    }),
  );
  return out;
}
