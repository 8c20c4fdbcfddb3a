/**
 * The request line of an HTTP/1.1 request (RFC 9112 §3): method, the
 * request-target and its form (§3.2), and the version. Its own module
 * because the target is where a proxy and a backend most easily disagree
 * (which host, which path): every form is checked here against the method
 * it belongs to, and the path that goes upstream is derived once.
 *
 * @module
 */

import type { RequestHead } from "./request_head_types.ts";
import { MAX_TARGET_BYTES, RequestError } from "./request_limits.ts";
import { isTchar } from "./field_lists.ts";
import { validHostPort } from "./uri_host.ts";

const SP = 32;

/** What the request line says. */
export type RequestLine = Pick<RequestHead, "method" | "target" | "form" | "path" | "minor">;

/** `method SP request-target SP HTTP-version` (RFC 9112 §3), exactly one SP each. */
export function parseRequestLine(text: string, from: number, to: number): RequestLine {
  let sp = from;
  while (sp < to && isTchar(text.charCodeAt(sp))) sp++;
  if (sp === from || sp === to || text.charCodeAt(sp) !== SP) {
    throw new RequestError(400, "method is not a token followed by one space");
  }
  const t = sp + 1;
  let tEnd = t;
  while (tEnd < to && text.charCodeAt(tEnd) !== SP) tEnd++;
  if (tEnd - t > MAX_TARGET_BYTES) {
    throw new RequestError(414, `request-target over ${MAX_TARGET_BYTES} bytes`);
  }
  if (tEnd === t || tEnd === to) {
    throw new RequestError(400, "request line is not method, target and version");
  }
  for (let i = t; i < tEnd; i++) {
    const c = text.charCodeAt(i);
    // Visible ASCII (RFC 3986 has nothing else); a fragment is never sent (RFC 9110 §7.1).
    if (c < 0x21 || c > 0x7e || c === 0x23) {
      throw new RequestError(400, "request-target has a byte outside visible ASCII, or a #");
    }
  }
  const minor = parseVersion(text, tEnd + 1, to);
  const method = text.slice(from, sp);
  const target = text.slice(t, tEnd);
  const { form, path } = targetForm(method, target);
  return { method, target, form, path, minor };
}

/** `HTTP/1.1` or `HTTP/1.0`; another well-formed `HTTP/d.d` is 505 (RFC 9110 §15.6.6). */
function parseVersion(text: string, from: number, to: number): 0 | 1 {
  const digit = (i: number) => text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39;
  // RFC 9112 §2.3: HTTP-name is case-sensitive.
  if (
    to - from !== 8 || !text.startsWith("HTTP/", from) || !digit(from + 5) ||
    text.charCodeAt(from + 6) !== 0x2e || !digit(from + 7)
  ) {
    throw new RequestError(400, "HTTP-version is not HTTP/d.d");
  }
  const version = text.slice(from + 5, to);
  if (version === "1.1") return 1;
  if (version === "1.0") return 0;
  throw new RequestError(505, `HTTP/${version} is not supported`);
}

/**
 * The form of `target` (RFC 9112 §3.2) and the path to send upstream.
 * Authority-form is only for CONNECT and asterisk-form only for OPTIONS.
 */
function targetForm(method: string, target: string): Pick<RequestHead, "form" | "path"> {
  const connect = method === "CONNECT";
  if (target.charCodeAt(0) === 0x2f && !connect) return { form: "origin", path: target };
  if (target === "*" && method === "OPTIONS") return { form: "asterisk", path: "*" };
  if (connect) {
    // §3.2.3: authority-form = uri-host ":" port, no userinfo.
    if (!validHostPort(target, true)) throw new RequestError(400, "CONNECT needs host:port");
    return { form: "authority", path: target };
  }
  const scheme = target.slice(0, 8).toLowerCase();
  const after = scheme.startsWith("http://") ? 7 : scheme === "https://" ? 8 : -1;
  if (after === -1) throw new RequestError(400, "request-target in no form for this method");
  let authorityEnd = after;
  while (authorityEnd < target.length) {
    const c = target.charCodeAt(authorityEnd);
    if (c === 0x2f || c === 0x3f) break;
    authorityEnd++;
  }
  // RFC 9110 §4.2.1: an http(s) URI without a host is invalid; §4.2.4:
  // userinfo is an error (a host in disguise), so it is not a valid host here.
  if (!validHostPort(target.slice(after, authorityEnd), false)) {
    throw new RequestError(400, "absolute-form target without a valid host");
  }
  const rest = target.slice(authorityEnd);
  // §3.2.4: an OPTIONS of an empty path and no query goes on as "*".
  if (rest === "") return { form: "absolute", path: method === "OPTIONS" ? "*" : "/" };
  return { form: "absolute", path: rest.charCodeAt(0) === 0x3f ? "/" + rest : rest };
}
