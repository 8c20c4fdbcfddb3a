/**
 * The two timestamps of access-log lines: ISO 8601 in UTC with
 * milliseconds (`2026-12-02T06:01:22.123Z`, JSON lines' `time`) and the
 * Common Log Format's local time (`02/Dec/2026:06:01:22 +0000`, NGINX's
 * `$time_local`). A busy lb logs thousands of lines a second, so
 * {@link LogClock} formats each second once.
 *
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** Minutes east of UTC of the process's time zone (`TZ`) at `ms`. */
export function localOffset(ms: number): number {
  // getTimezoneOffset is minutes *west* of UTC; the -0 of UTC becomes 0.
  return -new Date(ms).getTimezoneOffset() || 0;
}

/** `ms` in the Common Log Format at `offsetMinutes` east of UTC: `02/Dec/2026:06:01:22 +0000`. Pure. */
export function clfTime(ms: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
}

/** Formats timestamps, each second's text made once. */
export class LogClock {
  readonly #offset: (ms: number) => number;
  #second = NaN;
  #local = "";
  #isoPrefix = "";

  /** `offset`: minutes east of UTC at a time; the process's time zone by default. */
  constructor(offset: (ms: number) => number = localOffset) {
    this.#offset = offset;
  }

  /** `ms` as the Common Log Format's local time. */
  local(ms: number): string {
    this.#at(ms);
    return this.#local;
  }

  /** `ms` as ISO 8601 in UTC with milliseconds. */
  iso(ms: number): string {
    this.#at(ms);
    const milli = Math.floor(ms) % 1000;
    return this.#isoPrefix + (milli < 10 ? "00" : milli < 100 ? "0" : "") + milli + "Z";
  }

  #at(ms: number): void {
    const second = Math.floor(ms / 1000);
    if (second === this.#second) return;
    this.#second = second;
    this.#local = clfTime(second * 1000, this.#offset(ms));
    // "2026-12-02T06:01:22." from "2026-12-02T06:01:22.000Z".
    this.#isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
}
