/**
 * The default client-connection cap: derived from the process's open-file
 * limit, which is read once at start.
 *
 * @module
 */

/**
 * The connection cap when none is set: the soft file limit less room for
 * upstream sockets (one per backend connection the transport may open, up
 * to half the limit) and 64 for listeners, health checks and files. Pure.
 */
export function defaultMaxClientConnections(fileLimit: number, upstreamSockets: number): number {
  const reserve = Math.min(Math.floor(fileLimit / 2), upstreamSockets) + 64;
  return Math.max(16, fileLimit - reserve);
}

/** Assumed when the file limit can't be read; see {@link openFileLimit}. */
export const ASSUMED_FILE_LIMIT = 65_536;

/**
 * The process's limit on open files, and where it came from. Deno raises its
 * soft limit to the hard one at start, so that is what counts. It is read
 * from `/proc/self/limits`, which Deno 2.9 lets a program read only with
 * `--allow-all`; otherwise {@link ASSUMED_FILE_LIMIT} is assumed (hard limits
 * are 524,288 under systemd and 1,048,576 under Docker by default), and an
 * operator with a lower limit sets `--max-client-connections`.
 */
export function openFileLimit(): { readonly limit: number; readonly read: boolean } {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(text);
    if (m) return { limit: m[1] === "unlimited" ? 1_048_576 : Number(m[1]), read: true };
  } catch {
    // Not Linux, or not permitted: assume.
  }
  return { limit: ASSUMED_FILE_LIMIT, read: false };
}
