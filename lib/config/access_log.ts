/**
 * The access-log options read together: `--access-log` and the format,
 * fields, template and file options. The rules between them live here:
 * a format other than `log` (which a template, a file or fields of one's
 * own choose when no format is given) turns the log on, so
 * `access-log: false` beside them is a contradiction; and an option the
 * chosen format would ignore is an error rather than a silent no-op.
 *
 * @module
 */

import { DEFAULT_JSON_FIELDS } from "../core/access_record.ts";
import type { Problems } from "./cli.ts";
import type { AccessLogOutput } from "./types.ts";
import type { OptionReader } from "./values.ts";

/**
 * Whether the access log is on, and how it is written. Every rule looks at
 * values, not where they came from, so the settings read back as flags
 * give the same config.
 */
export function buildAccessLog(
  p: Problems,
  r: OptionReader,
): { accessLog: boolean; accessLogOutput: AccessLogOutput } {
  const format = r.get("access-log-format");
  const fields = r.get("access-log-fields");
  const template = r.get("access-log-template");
  const file = r.get("access-log-file");
  const ownFields = fields.join(",") !== DEFAULT_JSON_FIELDS.join(",");
  // A template, a file or fields of one's own chose a format already (its derived default).
  const shaped = format !== "log";
  const off = r.from("access-log") !== "default" && !r.get("access-log");
  if (off && shaped) {
    p.at(r.where("access-log"), "is false, but the access-log-* options say how to write it");
  }
  if (format === "template" && template === "") {
    p.at(r.where("access-log-format"), "the template format needs --access-log-template");
  }
  if (template !== "" && format !== "template") {
    p.at(r.where("access-log-template"), `applies to the template format only, not ${format}`);
  }
  if (ownFields) {
    if (format !== "json") {
      p.at(r.where("access-log-fields"), `applies to the json format only, not ${format}`);
    } else if (fields.length === 0) {
      p.at(r.where("access-log-fields"), "must name at least one field");
    }
    const twice = fields.find((f, i) => fields.indexOf(f) !== i);
    if (twice) p.at(r.where("access-log-fields"), `names ${twice} twice`);
  }
  if (file !== "" && format === "log") {
    p.at(
      r.where("access-log-file"),
      "the log format writes through the lb's own log on stdout; " +
        "choose json, combined, common or template to write a file",
    );
  }
  return {
    accessLog: r.get("access-log") || shaped,
    accessLogOutput: { format, fields, template, file: file === "" ? undefined : file },
  };
}
