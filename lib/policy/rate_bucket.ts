/**
 * Token-bucket arithmetic, pure and on a clock the caller passes in: a
 * bucket holds up to `burst` tokens, gains `limit` per `periodMs`
 * continuously, and a request takes one. The same rule runs in Redis
 * (`rate_script.ts`), so a check answered locally and one answered by the
 * store mean the same thing.
 *
 * Also the IETF fields' values (draft-ietf-httpapi-ratelimit-headers-11,
 * §3 and §4): `RateLimit-Policy: "name";q=<limit>;w=<period s>` and
 * `RateLimit: "name";r=<remaining>;t=<s>`, where `t` is the seconds until
 * the next token: the only span in which "no more than `r`" holds for a
 * bucket that refills continuously.
 *
 * @module
 */

/** The shape of a bucket. */
export interface BucketRule {
  /** Tokens added per `periodMs`. */
  readonly limit: number;
  readonly periodMs: number;
  /** The most tokens a bucket holds. */
  readonly burst: number;
}

/** One key's bucket: tokens as of `at` (ms on the caller's clock). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** What one check decided. */
export interface Verdict {
  /** Whether the request took a token. */
  allowed: boolean;
  /** Whole tokens left after it. */
  remaining: number;
  /** Milliseconds (whole, rounded up) until the next token: when a refused request may retry. */
  waitMs: number;
}

/** A full bucket, as a key seen for the first time gets. */
export function fullBucket(rule: BucketRule, now: number): Bucket {
  return { tokens: rule.burst, at: now };
}

/**
 * Refills `bucket` up to `now`, takes a token when there is one, and writes
 * the outcome into `out` (returned; passing a reused object keeps the
 * local path free of allocations). A clock that went backwards refills
 * nothing.
 */
export function take(bucket: Bucket, rule: BucketRule, now: number, out: Verdict): Verdict {
  const perMs = rule.limit / rule.periodMs;
  let tokens = bucket.tokens;
  if (now > bucket.at) {
    tokens = Math.min(rule.burst, tokens + (now - bucket.at) * perMs);
    bucket.at = now;
  }
  if (tokens >= 1) {
    tokens -= 1;
    const whole = Math.floor(tokens);
    out.allowed = true;
    out.remaining = whole;
    out.waitMs = wholeMs((whole + 1 - tokens) / perMs);
  } else {
    out.allowed = false;
    out.remaining = 0;
    out.waitMs = wholeMs((1 - tokens) / perMs);
  }
  bucket.tokens = tokens;
  return out;
}

/** Rounds up, forgiving float noise (0.1 + 0.2 ms is 1 ms, not 2). */
function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms - 1e-9));
}

/** Whole seconds for `Retry-After` and `t` (RFC 9110 §10.2.3 delay-seconds): rounded up, at least 1. */
export function waitSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** A structured-field string (RFC 9651 §3.3.3): quoted, `"` and `\` escaped. */
export function sfString(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&")}"`;
}

/**
 * The `RateLimit-Policy` value: quota and window, and when the bucket is
 * larger than one period's tokens, a vendor parameter saying so (§3.1
 * allows prefixed parameters; a client that knows only `q` still reads the
 * sustained rate).
 */
export function policyField(name: string, rule: BucketRule): string {
  const base = `${sfString(name)};q=${rule.limit};w=${rule.periodMs / 1000}`;
  return rule.burst === rule.limit ? base : `${base};lb-burst=${rule.burst}`;
}

/** The `RateLimit` value for a verdict; `quotedName` is {@link sfString} of the name. */
export function limitField(quotedName: string, v: Verdict): string {
  return `${quotedName};r=${v.remaining};t=${waitSeconds(v.waitMs)}`;
}
