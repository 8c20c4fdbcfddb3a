/**
 * Escaping for access-log values, so that nothing a client sends can end a
 * line early, forge a field or reach a terminal as a control sequence.
 *
 * Text formats escape as NGINX's default `log_format` escaping does
 * (`ngx_http_log_escape`): `"`, `\`, the C0 controls, DEL and every byte
 * from 0x80 become `\xHH` (upper-case hex), so a line is plain ASCII and
 * `"..."` fields can't be broken out of. JSON strings are JSON.stringify's,
 * with DEL, the C1 controls and U+2028/U+2029 escaped too.
 *
 * Field values from the wire (the target, `Host`, `User-Agent`,
 * `Referer`) are byte strings: the fronts keep each byte as one char from
 * U+0000 to U+00FF. Those are escaped byte for byte as NGINX does, and for
 * JSON decoded as UTF-8 first; other text (names from the config, the
 * user) is encoded as UTF-8.
 *
 * @module
 */

const HEX = "0123456789ABCDEF";
/** What NGINX escapes: C0, `"`, `\`, DEL and beyond ASCII. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const NGINX_SPECIAL = /[\x00-\x1f"\\\x7f-\uffff]/;
/** What JSON.stringify leaves raw but a log line should not carry. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const JSON_SPECIAL = /[\x00-\x1f"\\\x7f-\x9f\u2028\u2029\ud800-\udfff]/;
const JSON_EXTRA = /[\x7f-\x9f\u2028\u2029]/g;
/** A char beyond ASCII in a byte string. */
const HIGH_BYTE = /[\x80-\xff]/;
// deno-lint-ignore no-control-regex -- matching control characters is the point
const BEYOND_BYTES = /[^\x00-\xff]/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hexByte(b: number): string {
  return "\\x" + HEX[b >> 4] + HEX[b & 15];
}

/**
 * `s` escaped as NGINX escapes a variable in a log line. With `bytes`, each
 * char up to U+00FF stands for one byte (a field as the front read it);
 * otherwise, and for any char beyond U+00FF, the UTF-8 bytes are escaped.
 */
export function escapeNginx(s: string, bytes: boolean): string {
  if (!NGINX_SPECIAL.test(s)) return s;
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    if (c < 0x80 || (bytes && c < 0x100)) {
      out += hexByte(c);
    } else {
      // A surrogate pair is one code point: encode both halves together.
      const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < s.length &&
        s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000;
      const end = pair ? i + 2 : i + 1;
      for (const b of encoder.encode(s.slice(i, end))) out += hexByte(b);
      i = end - 1;
    }
    from = i + 1;
  }
  return out + s.slice(from);
}

/** `s` as a JSON string literal that can't split a line or carry a control character. */
export function jsonString(s: string): string {
  if (!JSON_SPECIAL.test(s)) return `"${s}"`;
  // JSON.stringify already escapes C0, quotes, backslashes and lone surrogates.
  return JSON.stringify(s).replace(
    JSON_EXTRA,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/**
 * A byte string (one char per byte) as the text its bytes spell in UTF-8,
 * invalid sequences as U+FFFD; ASCII and strings that are already text
 * (a char beyond U+00FF) come back as they are.
 */
export function bytesToText(s: string): string {
  if (!HIGH_BYTE.test(s) || BEYOND_BYTES.test(s)) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return decoder.decode(bytes);
}
