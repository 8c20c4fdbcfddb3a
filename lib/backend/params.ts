/**
 * Query parameters of the demo backend's endpoints, parsed into numbers. A
 * bad value becomes a message naming the parameter and what was expected,
 * which the handler answers with 400; nothing here throws. Also the
 * abortable {@link sleep} behind `?wait=` and `/stream?interval=`.
 *
 * @module
 */

import { parseDuration } from "../core/duration.ts";

/**
 * `?name=` as a whole number in [0, max]: `fallback` when absent, or a
 * message naming the parameter when it is not such a number.
 */
export function integerParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
): number | string {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > max) {
    return `${name}: ${JSON.stringify(raw)} is not a whole number from 0 to ${max}`;
  }
  return n;
}

/**
 * `?name=` as a duration in milliseconds (`fallback` is parsed when absent),
 * or a message naming the parameter when it is not a duration.
 */
export function durationParam(
  query: URLSearchParams,
  name: string,
  fallback: string,
): number | string {
  const raw = query.get(name) ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) {
    return `${name}: ${JSON.stringify(raw)} is not a duration (expected e.g. 500ms, 2s)`;
  }
  return ms;
}

/** `?status=N`, 200-599, or a message; `undefined` when absent. */
export function statusParam(query: URLSearchParams): number | string | undefined {
  const raw = query.get("status");
  if (raw === null) return undefined;
  const n = Number(raw);
  // 1xx are interim responses and cannot be a final answer.
  if (!/^\d{3}$/.test(raw) || n < 200 || n > 599) {
    return `status: ${JSON.stringify(raw)} is not a status from 200 to 599`;
  }
  return n;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is cleared). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
