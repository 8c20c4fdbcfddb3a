/**
 * Readers for the values of `--access-log-fields` and
 * `--access-log-template` (see `kinds.ts`), and the format's default:
 * field and variable names are the access record's
 * (`core/access_record.ts`), so an unknown one is refused where it was
 * written.
 *
 * @module
 */

import {
  ACCESS_FIELDS,
  type AccessField,
  type AccessLogFormat,
  DEFAULT_JSON_FIELDS,
} from "../core/access_record.ts";
import { parseAccessTemplate } from "../core/access_template.ts";
import type { Fail } from "./kinds.ts";

/** Reads one name of `--access-log-fields`. */
export function readAccessField(raw: string, fail: Fail): AccessField | undefined {
  if (Object.hasOwn(ACCESS_FIELDS, raw)) return raw as AccessField;
  fail(`"${raw}" is not a field (expected one of ${Object.keys(ACCESS_FIELDS).join(", ")})`);
  return undefined;
}

/** Reads `--access-log-template`: empty (none) or a template whose variables all exist. */
export function readAccessTemplate(raw: string, fail: Fail): string {
  if (raw === "") return raw;
  const parts = parseAccessTemplate(raw);
  if (typeof parts === "string") fail(`"${raw}": ${parts}`);
  return raw;
}

/**
 * `--access-log-format`'s default, from the other access-log options: what
 * they only make sense with (`template` for a template; `json` for a file
 * or fields of one's own), else `log`, the lb's own log as before.
 */
export function defaultAccessLogFormat(value: (name: string) => unknown): AccessLogFormat {
  if (value("access-log-template") !== "") return "template";
  const fields = (value("access-log-fields") as string[]).join(",");
  if (value("access-log-file") !== "" || fields !== DEFAULT_JSON_FIELDS.join(",")) return "json";
  return "log";
}
