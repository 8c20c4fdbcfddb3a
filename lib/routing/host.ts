/**
 * Host matching for routes. A request's authority (the `Host` field, or
 * `:authority` in HTTP/2) is normalised once: lower-cased (host names are
 * case-insensitive, RFC 9110 §4.2.3), its port removed (a route picks a
 * site, not a listener; the lb may sit behind a port mapping), and one
 * trailing dot dropped (`example.com.` is the same fully qualified name).
 * Patterns are compiled once into a set of exact names and a list of
 * suffixes, so a request costs a hash lookup and a few `endsWith` calls.
 *
 * `*.example.com` matches one or more labels before `.example.com`
 * (`a.example.com`, `a.b.example.com`) but not `example.com` itself, as
 * NGINX's `server_name *.example.com` does; list both to have both.
 *
 * @module
 */

/** Tests a host already passed through {@link normalizeHost}. */
export type HostTest = (host: string) => boolean;

const DOT = 0x2e;

/**
 * Lower-cases an authority, strips its port and one trailing dot:
 * `A.Example.COM.:8080` -> `a.example.com`, `[::1]:80` -> `[::1]`. A bare
 * IPv6 address (more than one colon, no brackets; not valid in `Host`, but
 * seen) is kept whole rather than cut at its last group. Returns the same
 * string when nothing changes.
 */
export function normalizeHost(authority: string): string {
  let host = authority;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf("]");
    if (close !== -1) host = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon !== -1 && colon === host.lastIndexOf(":")) host = host.slice(0, colon);
  }
  if (host.length > 1 && host.charCodeAt(host.length - 1) === DOT) host = host.slice(0, -1);
  return hasUpper(host) ? host.toLowerCase() : host;
}

/** Whether `s` has an ASCII upper-case letter, so the common lower-case host is not copied. */
function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
    // Non-ASCII: let toLowerCase decide (an IDN should arrive as punycode, but may not).
    if (c > 0x7f) return true;
  }
  return false;
}

/**
 * Compiles host patterns (any of them may match) into one test. Exact
 * patterns are normalised like requests are; `*.suffix` patterns are
 * lower-cased and lose a trailing dot.
 */
export function compileHosts(patterns: readonly string[]): HostTest {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns) {
    if (p.startsWith("*.")) suffixes.push(normalizeHost(p.slice(1)));
    else exact.add(normalizeHost(p));
  }
  if (suffixes.length === 0) return (host) => exact.has(host);
  return (host) => {
    if (exact.has(host)) return true;
    for (let i = 0; i < suffixes.length; i++) if (isSubdomain(host, suffixes[i])) return true;
    return false;
  };
}

/**
 * Whether `host` ends with `suffix` (which starts with a dot) after at least
 * one non-empty label: `a.example.com` is under `.example.com`, while
 * `example.com`, `.example.com` and `evil-example.com` are not.
 */
function isSubdomain(host: string, suffix: string): boolean {
  const cut = host.length - suffix.length;
  return cut > 0 && host.endsWith(suffix) && host.charCodeAt(cut - 1) !== DOT;
}
