/**
 * The token bucket of `rate_bucket.ts` as one Redis Lua script, so a check
 * is atomic however many lb processes share the bucket, and timed by
 * Redis's own clock (`TIME`) so replicas whose clocks differ still agree.
 * Redis 5 and later replicate a script's effects rather than the script, which is
 * what allows `TIME` before a write.
 *
 * A bucket is one string key, `"<tokens> <ms>"`, set to expire once it
 * would have refilled anyway, so idle keys leave Redis by themselves. A
 * refused check writes nothing: the refill is computed from the last
 * taken token either way.
 *
 * It is sent as `EVALSHA` (40 bytes instead of the script); a server that
 * does not know it (restarted, `SCRIPT FLUSH`) answers `NOSCRIPT`, and the
 * check is sent again as `EVAL`, which also caches it there.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { bulks, commandHead, RespError, type RespPart, type RespValue } from "./redis_resp.ts";
import type { BucketRule, Verdict } from "./rate_bucket.ts";

/** The script: KEYS[1] the bucket; ARGV burst, limit, period ms, expiry ms; returns {allowed, remaining, wait ms}. */
export const TOKEN_BUCKET_LUA = `
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local tokens = burst
local state = redis.call('GET', KEYS[1])
if state then
  local left, at = string.match(state, '^(%S+) (%S+)$')
  left, at = tonumber(left), tonumber(at)
  if left and at then
    if now > at then left = left + (now - at) * per_ms else now = at end
    tokens = math.min(burst, left)
  end
end
if tokens >= 1 then
  tokens = tokens - 1
  redis.call('SET', KEYS[1], string.format('%.17g %.17g', tokens, now), 'PX', ARGV[4])
  local whole = math.floor(tokens)
  return {1, whole, math.max(1, math.ceil((whole + 1 - tokens) / per_ms - 1e-9))}
end
return {0, 0, math.max(1, math.ceil((1 - tokens) / per_ms - 1e-9))}
`;

/** The script's SHA-1, as `EVALSHA` names it. */
export const TOKEN_BUCKET_SHA: string = createHash("sha1").update(TOKEN_BUCKET_LUA).digest("hex");

/** One rule's check, pre-encoded: only the key is encoded per request. */
export interface ScriptCall {
  /** `EVALSHA <sha> 1`, and `EVAL <script> 1` for a server that lost the script. */
  readonly bySha: Uint8Array;
  readonly byText: Uint8Array;
  /** The rule's arguments after the key. */
  readonly args: Uint8Array;
}

/** The encoded check for `rule`. */
export function scriptCall(rule: BucketRule): ScriptCall {
  // Past this a bucket has refilled whole, so an absent key means the same thing.
  const expiryMs = Math.ceil(rule.burst * rule.periodMs / rule.limit) + 1000;
  const args = [rule.burst, rule.limit, rule.periodMs, expiryMs];
  // The command, the script, the key count; the key; the arguments.
  const total = 3 + 1 + args.length;
  return {
    bySha: commandHead(total, "EVALSHA", TOKEN_BUCKET_SHA, "1"),
    byText: commandHead(total, "EVAL", TOKEN_BUCKET_LUA, "1"),
    args: bulks(...args),
  };
}

/** The parts of a check of `key`; `text` sends the script itself. */
export function checkParts(call: ScriptCall, key: string, text = false): RespPart[] {
  return [text ? call.byText : call.bySha, key, call.args];
}

/** Whether a reply says the server does not have the script. */
export function isNoScript(reply: RespValue): boolean {
  return reply instanceof RespError && reply.code === "NOSCRIPT";
}

/** The script's reply as a verdict, or undefined when it is not one. */
export function verdictOf(reply: RespValue): Verdict | undefined {
  if (!Array.isArray(reply) || reply.length !== 3) return undefined;
  const [allowed, remaining, waitMs] = reply;
  if (typeof allowed !== "number" || typeof remaining !== "number" || typeof waitMs !== "number") {
    return undefined;
  }
  return { allowed: allowed === 1, remaining, waitMs };
}
