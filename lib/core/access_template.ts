/**
 * The syntax of `--access-log-template`, NGINX's `log_format` syntax:
 * `$name` or `${name}` (when a letter follows) stands for a field of
 * {@link ACCESS_FIELDS}, `$$` for a dollar sign, anything else is literal.
 * The NGINX/Apache `combined` and `common` formats are two such templates.
 *
 * @module
 */

import { ACCESS_FIELDS, type AccessField } from "./access_record.ts";

/** A parsed template: literal text and field names, in order. */
export type TemplatePart = { readonly text: string } | { readonly field: AccessField };

/**
 * NGINX's predefined `combined` format, with this lb's names for its
 * variables (`$remote_addr` is `$client`, `$remote_user` `$user`,
 * `$body_bytes_sent` `$bytes`, `$http_referer` `$referer`,
 * `$http_user_agent` `$user_agent`).
 */
export const COMBINED_TEMPLATE =
  '$client - $user [$time_local] "$request" $status $bytes "$referer" "$user_agent"';

/** The Common Log Format: `combined` without its last two fields. */
export const COMMON_TEMPLATE = '$client - $user [$time_local] "$request" $status $bytes';

const VARIABLE = /\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|(\$)|)/g;

/** `text` as parts, or the problem with it (an unknown variable, a bad `$`, a control character). Pure. */
export function parseAccessTemplate(text: string): TemplatePart[] | string {
  if (text.trim() === "") return "must not be empty";
  // The template is a line: a control character in it would break or garble lines.
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  const control = /[\x00-\x1f\x7f]/.exec(text);
  if (control) {
    return `has a control character (U+${
      control[0].charCodeAt(0).toString(16).padStart(4, "0")
    }); a template is one line`;
  }
  const parts: TemplatePart[] = [];
  let literal = "";
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    literal += text.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[3] !== undefined) {
      literal += "$";
      continue;
    }
    const name = m[1] ?? m[2];
    if (name === undefined || name === "") {
      return `a $ at offset ${m.index} starts no variable: write $name, \${name}, or $$ for a dollar sign`;
    }
    if (!Object.hasOwn(ACCESS_FIELDS, name)) {
      return `unknown variable $${name} (expected one of ${
        Object.keys(ACCESS_FIELDS).map((f) => `$${f}`).join(", ")
      })`;
    }
    if (literal !== "") parts.push({ text: literal });
    literal = "";
    parts.push({ field: name as AccessField });
  }
  literal += text.slice(last);
  if (literal !== "") parts.push({ text: literal });
  return parts;
}
