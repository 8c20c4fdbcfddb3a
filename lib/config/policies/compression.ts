/**
 * `policies.compression`: `true` for the defaults, or an object choosing
 * the codings and their order of preference, the media types compressed,
 * the smallest body worth it, each coding's effort and how many streamed
 * compressions may run at once. What is compressed and how is
 * `policy/compression.ts`; this module gives the values meaning and refuses
 * what could not work: an unknown coding, a malformed media type, a type
 * with parameters, `text/event-stream` (events must reach the client as
 * they are sent) and a wildcard type such as `*` over everything (images,
 * video and archives are compressed already; list the types instead).
 *
 * @module
 */

import type { Problems } from "../cli.ts";
import { formatSize, parseSize } from "../kinds.ts";
import { asList, type PolicyParser, STRING_OR_LIST } from "./parser.ts";
import type { CompressionConfig, ContentCoding } from "./types.ts";

/**
 * The codings, in the default order of preference: zstd first, as it
 * compresses about as well as brotli 4 at a third of the CPU (a 16 KiB
 * body: 53 µs against 126), then brotli, then gzip for older clients.
 */
export const CODINGS: readonly ContentCoding[] = ["zstd", "br", "gzip"];

/**
 * Types compressed by default: text formats a site serves (as Caddy's and
 * NGINX's usual lists), not images other than SVG, fonts in compressed
 * formats, media or archives.
 */
export const DEFAULT_TYPES: readonly string[] = [
  "text/html",
  "text/css",
  "text/plain",
  "text/javascript",
  "text/xml",
  "text/csv",
  "text/markdown",
  "application/javascript",
  "application/json",
  "application/xml",
  "application/xhtml+xml",
  "application/rss+xml",
  "application/atom+xml",
  "application/ld+json",
  "application/manifest+json",
  "application/problem+json",
  "application/wasm",
  "image/svg+xml",
];

/**
 * Each coding's effort range and default, measured here on minified
 * JavaScript and HTML streamed in 64 KiB chunks (`README.md`,
 * Compression): gzip 5 is within 1% of 6's size at 20-40% more speed;
 * brotli 4 is 5-11% smaller than gzip 5 at about half its speed, and 5
 * smaller again at two-thirds of 4's speed; zstd 3 (zstd's own default)
 * is gzip's size or better at 2-3 times its speed.
 */
export const LEVELS: {
  readonly [C in ContentCoding]: { min: number; max: number; default: number };
} = {
  gzip: { min: 1, max: 9, default: 5 },
  br: { min: 0, max: 11, default: 4 },
  // 20-22 are zstd's "ultra" levels, with windows of 32 MiB and more per stream.
  zstd: { min: 1, max: 19, default: 3 },
};

/** The defaults of `compression: true`. */
export const COMPRESSION_DEFAULTS: CompressionConfig = {
  encodings: CODINGS,
  types: DEFAULT_TYPES,
  minBytes: 1024,
  levels: { gzip: LEVELS.gzip.default, br: LEVELS.br.default, zstd: LEVELS.zstd.default },
  maxStreams: 64,
};

// RFC 9110 §8.3.1: type "/" subtype, each a token.
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/(${TOKEN}|\\*)$`);

interface RawCompression {
  readonly encodings?: string | string[];
  readonly types?: string | string[];
  readonly "min-size"?: string | number;
  readonly level?: Partial<Record<ContentCoding, number>>;
  readonly "max-streams"?: number;
}

const level = (c: ContentCoding, what: string) =>
  ({
    type: "integer",
    minimum: LEVELS[c].min,
    maximum: LEVELS[c].max,
    description: `${what} ${LEVELS[c].min}-${LEVELS[c].max} (${LEVELS[c].default})`,
  }) as const;

/** Parses `policies.compression`. */
export const compressionPolicy: PolicyParser<CompressionConfig> = {
  schema: {
    oneOf: [{ type: "boolean", enum: [true], description: "the defaults" }, {
      type: "object",
      additionalProperties: false,
      properties: {
        encodings: {
          ...STRING_OR_LIST,
          description:
            "codings offered, the preferred first among those the client weighs alike ([zstd, br, gzip])",
        },
        types: {
          ...STRING_OR_LIST,
          description:
            "media types compressed, type/subtype or type/* (text, JSON, XML, JS, SVG\u2026)",
        },
        "min-size": {
          oneOf: [{ type: "string" }, { type: "integer", minimum: 0 }],
          description: "bodies of known length below this go as they are (1KiB)",
        },
        level: {
          type: "object",
          additionalProperties: false,
          description: "effort per coding",
          properties: {
            gzip: level("gzip", "gzip level"),
            br: level("br", "brotli quality"),
            zstd: level("zstd", "zstd level"),
          },
        },
        "max-streams": {
          type: "integer",
          minimum: 1,
          description:
            "streamed compressions at once per thread; past it, replies go as they are (64)",
        },
      },
    }],
    description: "compresses responses for clients that accept it (gzip, brotli, zstd)",
  },
  describe: (c) => ({
    encodings: c.encodings,
    types: c.types,
    minBytes: c.minBytes,
    levels: c.levels,
    maxStreams: c.maxStreams,
  }),
  parse(p, value, where) {
    if (value === true) return COMPRESSION_DEFAULTS;
    const raw = value as RawCompression;
    const at = where.at;
    const d = COMPRESSION_DEFAULTS;
    const sizeText = String(raw["min-size"] ?? formatSize(d.minBytes));
    const minBytes = parseSize(sizeText);
    if (minBytes === undefined) {
      p.at(`${at}.min-size`, `"${sizeText}" is not a size (e.g. 1KiB, 256, 0)`);
    }
    return {
      encodings: raw.encodings === undefined
        ? d.encodings
        : encodings(p, asList(raw.encodings), `${at}.encodings`),
      types: raw.types === undefined ? d.types : types(p, asList(raw.types), `${at}.types`),
      minBytes: minBytes ?? d.minBytes,
      levels: { ...d.levels, ...raw.level },
      maxStreams: raw["max-streams"] ?? d.maxStreams,
    };
  },
};

function encodings(p: Problems, names: string[], at: string): ContentCoding[] {
  const out: ContentCoding[] = [];
  if (names.length === 0) p.at(at, "needs at least one coding (br, zstd, gzip)");
  names.forEach((name, i) => {
    const coding = name.toLowerCase() as ContentCoding;
    if (!CODINGS.includes(coding)) {
      // deflate is left out on purpose: clients disagree on whether it is zlib or raw DEFLATE.
      p.at(`${at}[${i}]`, `"${name}" is not a coding this lb applies (expected br, zstd, gzip)`);
    } else if (out.includes(coding)) p.at(`${at}[${i}]`, `"${name}" is listed twice`);
    else out.push(coding);
  });
  return out;
}

function types(p: Problems, names: string[], at: string): string[] {
  const out: string[] = [];
  if (names.length === 0) p.at(at, "needs at least one media type");
  names.forEach((name, i) => {
    const type = name.trim().toLowerCase();
    const where = `${at}[${i}]`;
    if (type.includes(";")) {
      p.at(where, `"${name}": list the media type without parameters (its charset doesn't matter)`);
    } else if (type === "*/*" || type.startsWith("*/")) {
      p.at(
        where,
        `"${name}": name the types (type/subtype or type/*); most others are compressed already`,
      );
    } else if (!MEDIA_TYPE.test(type)) {
      p.at(where, `"${name}" is not a media type (type/subtype or type/*, e.g. text/html, text/*)`);
    } else if (type === "text/event-stream") {
      p.at(where, "text/event-stream is never compressed: events must reach the client as sent");
    } else if (!out.includes(type)) out.push(type);
  });
  return out;
}
