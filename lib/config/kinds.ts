/**
 * Option kinds: what an option's value is (a duration, a port, a whole
 * number in a range, one of some names...). A kind knows how to read the
 * command-line text, what to say when it is wrong, how the value looks in a
 * config file (its JSON schema), its help placeholder and its canonical
 * text. The option table in `options.ts` gives every option one kind, and
 * the parser, `--help`, the schema and the docs all ask the kind, so a rule
 * is written once.
 *
 * Every message quotes the value and says what was expected; the caller
 * adds where the value came from (`--port`, `--config: lb.yaml: pools.api.port`).
 *
 * @module
 */

import { formatDuration, parseDuration } from "../core/duration.ts";
import type { Schema } from "./json_schema.ts";

/** Reports one problem with a value; the message quotes it and names what was expected. */
export type Fail = (message: string) => void;

/** What kind of value an option takes. */
export interface Kind<T> {
  /** For docs and the option-table test: the family this kind belongs to. */
  readonly type:
    | "string"
    | "duration"
    | "integer"
    | "port"
    | "boolean"
    | "choice"
    | "size"
    | "list"
    | "custom";
  /** Placeholder after the flag in help (`D`, `N`, `LIST`); empty for switches. */
  readonly placeholder: string;
  /** The value's JSON schema in a config file. */
  readonly schema: Schema;
  /** Added to the help text, e.g. `(0-10)` or the names a choice accepts. */
  readonly note?: string;
  /** Reads text as a flag would take it; on a problem calls `fail` and returns a fallback. */
  parse(raw: string, fail: Fail): T;
  /** The canonical text of a value (so `5000ms` and `5s` compare equal); the trimmed text when absent. */
  format?(value: T): string;
}

/** Config files may give any text value as a string or, for convenience, a number. */
const STRING_OR_NUMBER: Schema = { oneOf: [{ type: "string" }, { type: "number" }] };

/** Free text. `nonEmpty` refuses text that is only spaces. */
export function text(placeholder: string, nonEmpty = false): Kind<string> {
  return {
    type: "string",
    placeholder,
    schema: STRING_OR_NUMBER,
    parse(raw, fail) {
      if (nonEmpty && raw.trim() === "") fail("must not be empty");
      return raw;
    },
    format: (v) => v,
  };
}

/** Reads a TCP port, 0 (any free port) to 65535; 0 when invalid. */
export function readPort(raw: string, fail: Fail): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n > 65535) {
    fail(`"${raw}" is not a port (expected 0-65535)`);
    return 0;
  }
  return n;
}

/** A TCP port. */
export function port(): Kind<number> {
  return {
    type: "port",
    placeholder: "N",
    schema: { oneOf: [{ type: "integer", minimum: 0, maximum: 65535 }, { type: "string" }] },
    parse: readPort,
    format: String,
  };
}

/** Reads a duration such as `500ms`, `5s`, `1m`; 0 when invalid. */
export function readDuration(raw: string, fail: Fail): number {
  const ms = parseDuration(raw);
  if (ms === undefined) {
    fail(`"${raw}" is not a duration (expected e.g. 500ms, 5s, 1m)`);
    return 0;
  }
  return ms;
}

/** A duration in milliseconds; `positive` refuses 0 (a zero timeout or interval means nothing useful). */
export function duration(positive = false): Kind<number> {
  return {
    type: "duration",
    placeholder: "D",
    schema: STRING_OR_NUMBER,
    parse(raw, fail) {
      let bad = false;
      const ms = readDuration(raw, (m) => {
        bad = true;
        fail(m);
      });
      if (positive && ms === 0 && !bad) fail(`"${raw}" must be greater than 0`);
      return ms;
    },
    format: formatDuration,
  };
}

/** Reads a whole number within [min, max]; `min` when invalid. */
export function readInteger(raw: string, min: number, max: number, fail: Fail): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
    fail(`"${raw}" is not a whole number from ${min} to ${max}`);
    return min;
  }
  return n;
}

/** A whole number within [min, max]. */
export function integer(min: number, max: number): Kind<number> {
  return {
    type: "integer",
    placeholder: "N",
    schema: { oneOf: [{ type: "integer", minimum: min, maximum: max }, { type: "string" }] },
    note: `${min}-${max}`,
    parse: (raw, fail) => readInteger(raw, min, max, fail),
    format: String,
  };
}

/** A switch: present on the command line, or `true`/`false` in a file. */
export function boolean(): Kind<boolean> {
  return {
    type: "boolean",
    placeholder: "",
    schema: { type: "boolean" },
    parse: (raw) => raw === "true",
    format: String,
  };
}

/** Reads one of a fixed set of words; the first when invalid. */
export function readChoice<T extends string>(raw: string, allowed: readonly T[], fail: Fail): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    fail(`"${raw}" is not one of ${allowed.join(", ")}`);
    return allowed[0];
  }
  return raw as T;
}

/** One of a fixed set of words (the names in `names.ts`, log levels...). */
export function choice<T extends string>(allowed: readonly T[]): Kind<T> {
  return {
    type: "choice",
    placeholder: "NAME",
    schema: { enum: [...allowed] },
    note: allowed.join(", "),
    parse: (raw, fail) => readChoice(raw, allowed, fail),
    format: (v) => v,
  };
}

const SIZE_UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, KB: 1000, MB: 1000 ** 2 } as const;

/** Parses `64KiB`, `1MiB`, `512` (bytes); undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(B|KiB|MiB|KB|MB)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * SIZE_UNITS[(m[2] ?? "B") as keyof typeof SIZE_UNITS];
}

/** Writes bytes in the largest binary unit that divides them. */
export function formatSize(bytes: number): string {
  if (bytes !== 0 && bytes % SIZE_UNITS.MiB === 0) return `${bytes / SIZE_UNITS.MiB}MiB`;
  if (bytes !== 0 && bytes % SIZE_UNITS.KiB === 0) return `${bytes / SIZE_UNITS.KiB}KiB`;
  return String(bytes);
}

/** A size in bytes, within `min`..`max`; `example` goes in the message. */
export function size(bounds: { min?: number; max?: number; example: string }): Kind<number> {
  const { min = 0, max = Infinity, example } = bounds;
  const expected = max < Infinity ? `up to ${formatSize(max)}` : `of at least ${formatSize(min)}`;
  return {
    type: "size",
    placeholder: "SIZE",
    schema: STRING_OR_NUMBER,
    parse(raw, fail) {
      const bytes = parseSize(raw);
      if (bytes === undefined || bytes < min || bytes > max) {
        fail(`"${raw}" is not a size ${expected} (e.g. ${example})`);
        return Math.max(min, 0);
      }
      return bytes;
    },
    format: formatSize,
  };
}

/**
 * A comma-separated list (spaces and empty items ignored); in a file also an
 * array of strings. `item` reads one entry and returns undefined after
 * failing; `show` writes one back.
 */
export function list<T>(
  placeholder: string,
  item: (entry: string, fail: Fail) => T | undefined,
  show: (value: T) => string,
): Kind<T[]> {
  return {
    type: "list",
    placeholder,
    schema: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    parse(raw, fail) {
      const out: T[] = [];
      for (const entry of splitList(raw)) {
        const value = item(entry, fail);
        if (value !== undefined) out.push(value);
      }
      return out;
    },
    format: (values) => values.map(show).join(","),
  };
}

/** The items of a comma-separated list, trimmed, empty ones dropped. */
export function splitList(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** A kind with its own reader (hash keys, status ranges...); text in a file. */
export function custom<T>(
  placeholder: string,
  parse: (raw: string, fail: Fail) => T,
  more: { format?: (value: T) => string; schema?: Schema; note?: string } = {},
): Kind<T> {
  return { type: "custom", placeholder, schema: more.schema ?? STRING_OR_NUMBER, parse, ...more };
}
