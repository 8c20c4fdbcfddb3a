/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), as pure
 * functions: reading `traceparent` strictly, bounding `tracestate` without
 * changing what fits, writing the `traceparent` sent upstream, and the
 * sampling decision. Nothing here allocates for a request that has no
 * trace fields.
 *
 * @module
 */

/** A parent's trace context, read from `traceparent`. */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span: 16 lower-case hex digits, not all zero. */
  readonly parentId: string;
  /** Whether the caller recorded its span (flag bit 0). */
  readonly sampled: boolean;
  /** Whether the value is already in the form this lb sends (version 00, nothing after the flags). */
  readonly canonical: boolean;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/** Strips optional whitespace (RFC 9110 §5.6.3: spaces and tabs) around a field value. */
function trimOws(value: string): string {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first === 32 || first === 9 || last === 32 || last === 9
    ? value.replace(/^[ \t]+|[ \t]+$/g, "")
    : value;
}

/**
 * Reads one `traceparent` value (§3.2): `version-traceid-parentid-flags`,
 * lower-case hex only. Version `ff` is invalid; version `00` must end after
 * the flags; a later version is read for its first four parts when what
 * follows them starts with `-` (§3.2.4, "future versions"). All-zero ids are
 * invalid. Undefined when the value is not valid: the trace restarts. Pure.
 */
export function parseTraceparent(raw: string): TraceParent | undefined {
  const value = trimOws(raw);
  if (value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === "ff") return undefined;
  if (version === "00" ? value.length !== 55 : value.length > 55 && value[55] !== "-") {
    return undefined;
  }
  if (value[2] !== "-" || value[35] !== "-" || value[52] !== "-") return undefined;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return {
    traceId,
    parentId,
    sampled: (parseInt(flags, 16) & 1) === 1,
    canonical: version === "00" && (flags === "00" || flags === "01"),
  };
}

/** The `traceparent` this lb sends: version 00, only the sampled flag. Pure. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** §3.3.1: combined `tracestate` values propagated whole (at least this much must be). */
export const TRACESTATE_MAX_CHARS = 512;
/** §3.3.1.1: most list members. */
export const TRACESTATE_MAX_MEMBERS = 32;
/** §3.3.1.3: members longer than this are the first to go when truncating. */
const LONG_MEMBER = 128;

// §3.3.1.3.1-2: key = simple-key / tenant-id "@" system-id; value = 0*255(chr) nblk-chr.
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The `tracestate` to send upstream, from the client's fields (several are
 * one list, joined with commas, §3.3.1.1): unchanged when every member is
 * valid, keys are unique, there are at most 32 members and at most 512
 * characters; over 512, truncated as §3.3.1.3 says (members over 128
 * characters go first, then members from the end); undefined when empty or
 * invalid (it is dropped, as it can't be trusted to mean anything). Pure.
 */
export function boundTracestate(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined;
  const combined = values.length === 1 ? values[0] : values.join(",");
  const members: string[] = [];
  const keys = new Set<string>();
  for (const part of combined.split(",")) {
    const member = trimOws(part);
    if (member === "") continue; // Empty members are allowed and carry nothing (§3.3.1.1).
    const eq = member.indexOf("=");
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > TRACESTATE_MAX_MEMBERS) return undefined;
  if (combined.length <= TRACESTATE_MAX_CHARS) return combined;
  return truncateTracestate(members);
}

/** §3.3.1.3: long members first, then from the end, until the list fits. */
function truncateTracestate(members: string[]): string | undefined {
  const length = (list: string[]) => list.reduce((n, m) => n + m.length, 0) + list.length - 1;
  let kept = members;
  if (length(kept) > TRACESTATE_MAX_CHARS) kept = kept.filter((m) => m.length <= LONG_MEMBER);
  while (kept.length > 0 && length(kept) > TRACESTATE_MAX_CHARS) kept = kept.slice(0, -1);
  return kept.length > 0 ? kept.join(",") : undefined;
}

/**
 * Whether a request is recorded: a followed parent's sampled flag decides
 * (parent-based sampling, so a trace is whole or absent); a new trace is
 * recorded with probability `ratio`. `random` is uniform in [0, 1) and is
 * only called for new traces. Pure but for `random`.
 */
export function sampleDecision(
  parent: TraceParent | undefined,
  ratio: number,
  random: () => number,
): boolean {
  if (parent !== undefined) return parent.sampled;
  return ratio >= 1 ? true : ratio <= 0 ? false : random() < ratio;
}
