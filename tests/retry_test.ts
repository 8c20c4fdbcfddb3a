import assert from "node:assert/strict";
import { mayRetry } from "../lib/proxy/retry.ts";
import { UpstreamError, type UpstreamErrorKind } from "../lib/core/transport.ts";

const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"];
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether an error of each kind may be retried, given the request's method and body. */
const RULES: Record<UpstreamErrorKind, (method: string, hasBody: boolean) => boolean> = {
  // Never reached the backend: anything may go elsewhere.
  connect_refused: () => true,
  connect_timeout: () => true,
  connect_error: () => true,
  pool_timeout: () => true,
  // May have reached it: only requests that are safe to repeat.
  reset: (method, hasBody) => SAFE.has(method) && !hasBody,
  protocol: (method, hasBody) => SAFE.has(method) && !hasBody,
  // The backend may still be working on it.
  response_timeout: () => false,
};

for (const [kind, rule] of Object.entries(RULES) as [UpstreamErrorKind, typeof RULES.reset][]) {
  Deno.test(`mayRetry: ${kind}`, () => {
    const err = new UpstreamError(kind, "test");
    for (const method of METHODS) {
      for (const hasBody of [false, true]) {
        assert.equal(
          mayRetry(err, { method, hasBody }),
          rule(method, hasBody),
          `${kind} ${method} ${hasBody ? "with" : "without"} body`,
        );
      }
    }
  });
}

Deno.test("mayRetry: a POST with a body is retried after connect_refused and not after reset", () => {
  const facts = { method: "POST", hasBody: true };
  assert.equal(mayRetry(new UpstreamError("connect_refused", "refused"), facts), true);
  assert.equal(mayRetry(new UpstreamError("reset", "reset"), facts), false);
});

Deno.test("mayRetry: a GET with a body is not retried after reset (the body can't be replayed)", () => {
  assert.equal(mayRetry(new UpstreamError("reset", "x"), { method: "GET", hasBody: true }), false);
});

Deno.test("UpstreamError: only connect_* kinds never reached the backend", () => {
  const reached = Object.keys(RULES).filter((k) =>
    new UpstreamError(k as UpstreamErrorKind, "x").mayHaveReached
  );
  assert.deepEqual(reached.sort(), ["protocol", "reset", "response_timeout"]);
});

Deno.test("UpstreamError keeps kind, message, name and cause", () => {
  const cause = new Error("ECONNRESET");
  const err = new UpstreamError("reset", "connection reset", { cause });
  assert.ok(err instanceof Error);
  assert.equal(err.kind, "reset");
  assert.equal(err.message, "connection reset");
  assert.equal(err.name, "UpstreamError");
  assert.equal(err.cause, cause);
});
