/**
 * Forward auth (Traefik's ForwardAuth, NGINX's `auth_request`): before a
 * request goes upstream, a `GET` to the auth service carries its method,
 * URI, host, scheme and client as `X-Forwarded-*` with the client's fields
 * (never its body). A 2xx answer lets the request through with the
 * `copy-headers` fields copied on (replacing any the client sent under
 * those names); any other answer is the client's reply as the service sent
 * it (a 302 to a login page, a 401 with its challenge); a failure, a
 * timeout or a denial over `max-body` answers `on-error`. Nothing but a
 * 2xx ever lets the request through.
 *
 * The subrequest goes through this project's own HTTP/1.1 transport rather
 * than `fetch`: it keeps connections alive per auth service across reloads
 * (one transport per timeout, shared by the thread's routes), sends `Host`
 * as given, never follows redirects (a 302 is an answer to relay), never
 * decodes a compressed body (which `fetch` does while keeping the encoding
 * field, DENO-NOTES), ignores `HTTP_PROXY`, and costs about half of what
 * `fetch` does per request.
 *
 * @module
 */

import type { ForwardAuthConfig } from "../config/policies/types.ts";
import { ClientAbortError, headerValue, UpstreamError } from "../core/transport.ts";
import type { ProxyReply } from "../core/message.ts";
import { Deadlines } from "../http1/deadlines.ts";
import { H1Transport } from "../transport/h1/client.ts";
import {
  authRequestFields,
  authTarget,
  copyAuthFields,
  denialFields,
  discardBody,
  readBounded,
} from "./auth_subrequest.ts";
import { textReply } from "./replies.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "./types.ts";

/** How long an idle connection to the auth service is kept. */
const IDLE_MS = 30_000;

/** At most one failure line per route this often: an auth service down must not flood the log. */
const LOG_EVERY_MS = 5_000;

type Result = "allowed" | "denied" | "error" | "timeout";

/** One subrequest's deadline: it aborts the request, and says it was the one. */
class Deadline extends AbortController {
  expired = false;
  expire(): void {
    this.expired = true;
    this.abort();
  }
}

/**
 * The connections and deadlines of the subrequests with one timeout: kept
 * by the thread's runtime across reloads, closed at shutdown.
 */
class AuthClient {
  readonly transport: H1Transport;
  readonly deadlines: Deadlines;
  constructor(timeoutMs: number) {
    this.transport = new H1Transport({
      connectTimeoutMs: timeoutMs,
      responseTimeoutMs: timeoutMs,
      idleTimeoutMs: IDLE_MS,
      maxConnectionsPerBackend: 0,
    });
    this.deadlines = new Deadlines(timeoutMs);
  }
  close(): Promise<void> {
    this.deadlines.stop();
    return this.transport.close();
  }
}

/** The forward-auth policy. */
export function createForwardAuth(
  config: ForwardAuthConfig,
  deps: PolicyDeps,
  route: string,
): Policy {
  const target = authTarget(config.url);
  const { timeoutMs, maxBodyBytes } = config;
  const { transport, deadlines } = deps.shared(
    `forward-auth:h1:${timeoutMs}`,
    () => new AuthClient(timeoutMs),
  );
  const only = config.requestHeaders && new Set(config.requestHeaders);
  const copy = new Set(config.copyHeaders);
  const userHeader = config.userHeader;
  const counted: Record<Result, { inc(): void }> = {
    allowed: deps.metrics.forwardAuth.labels(route, "allowed"),
    denied: deps.metrics.forwardAuth.labels(route, "denied"),
    error: deps.metrics.forwardAuth.labels(route, "error"),
    timeout: deps.metrics.forwardAuth.labels(route, "timeout"),
  };
  const refused = deps.metrics.policyDenied.labels(route, "forward-auth");
  let lastLog = -Infinity;

  function failed(result: "error" | "timeout", err: unknown): ProxyReply {
    counted[result].inc();
    refused.inc();
    const now = deps.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      lastLog = now;
      deps.log.warning("forward auth for route {route} failed ({result}): {error}", {
        route,
        result,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    const status = config.onErrorStatus;
    return textReply(status, status === 503 ? "authentication unavailable\n" : "unauthorized\n");
  }

  async function ask(x: PolicyExchange): Promise<ProxyReply | undefined> {
    const deadline = new Deadline();
    // A client that leaves takes its subrequest with it.
    const leave = () => deadline.abort();
    const client = x.request.signal;
    client.addEventListener("abort", leave, { once: true });
    deadlines.arm(deadline);
    try {
      const res = await transport.request(target, {
        method: "GET",
        path: target.path,
        headers: authRequestFields(
          { method: x.request.method, uri: x.request.path, fields: x.upstreamHeaders },
          target.authority,
          only,
        ),
        body: null,
        signal: deadline.signal,
      });
      if (res.status >= 200 && res.status < 300) {
        await discardBody(res.body, maxBodyBytes);
        copyAuthFields(x.upstreamHeaders, res.headers, copy);
        if (userHeader !== undefined) {
          const user = headerValue(res.headers, userHeader);
          if (user !== undefined && user !== "") x.user = user;
        }
        counted.allowed.inc();
        x.explain?.policy("forward-auth", `allowed (${res.status})`);
        return undefined;
      }
      if (res.status > 599) {
        if (res.body instanceof ReadableStream) res.body.cancel().catch(() => {});
        return failed("error", new Error(`unusable status ${res.status}`));
      }
      const body = await readBounded(res.body, maxBodyBytes);
      counted.denied.inc();
      refused.inc();
      x.explain?.policy("forward-auth", `denied (${res.status})`);
      return { status: res.status, headers: denialFields(res.headers), body };
    } catch (err) {
      if (deadline.expired) return failed("timeout", new Error(`no answer within ${timeoutMs}ms`));
      if (err instanceof UpstreamError) {
        const timedOut = err.kind === "connect_timeout" || err.kind === "response_timeout";
        return failed(timedOut ? "timeout" : "error", err);
      }
      if (err instanceof ClientAbortError) return failed("error", new Error("the client left"));
      return failed("error", err);
    } finally {
      deadlines.disarm(deadline);
      client.removeEventListener("abort", leave);
    }
  }

  return { kind: "forward-auth", request: ask };
}
