/**
 * Every edge policy on the one route, for the proxy suites' `+policies`
 * variant: configured as a user would, so that the suites' requests pass
 * each of them (the right credentials, addresses allowed, a limit above
 * what they send) while every policy still does its work on every request.
 * What the policies need from outside (a forward-auth service, an OTLP
 * collector) runs in the test process for as long as the lb does.
 *
 * @module
 */

/** The user and password of the combined config's basic auth. */
export const POLICY_USER = "test";
const POLICY_PASSWORD = "secret";
// bcrypt of POLICY_PASSWORD, cost 5 (a cheap cost keeps the suites quick).
const POLICY_HASH = "$2a$05$5wLQScVqe0RYiYtES9/tBOaWR6ogwcz/MRLUTKSbWxleQr.bQdC3S";

/** The `Authorization` value the suites send in the `+policies` variant. */
export const POLICY_AUTHORIZATION = `Basic ${btoa(`${POLICY_USER}:${POLICY_PASSWORD}`)}`;

/** The services the combined config points at, and the config file itself. */
export interface PolicyServices extends AsyncDisposable {
  /** The config file (policies only; backends come from the command line). */
  readonly configFile: string;
  /** Flags the lb needs besides the file (the OTLP endpoint). */
  readonly flags: readonly string[];
  /** Forward-auth checks answered so far. */
  readonly authChecks: number;
  /** OTLP export requests received so far. */
  readonly exports: number;
}

/** The combined policies, pointing at `authUrl`. */
export function combinedPolicies(authUrl: string): Record<string, unknown> {
  return {
    "request-id": true,
    tracing: { sample: 1 },
    ip: { allow: ["0.0.0.0/0", "::/0"], deny: ["192.0.2.0/24", "2001:db8::/32"] },
    "rate-limit": { limit: 100_000, period: "1s", key: ["ip"] },
    "basic-auth": { users: { [POLICY_USER]: POLICY_HASH } },
    "forward-auth": { url: authUrl, "copy-headers": ["x-auth-user"] },
    headers: {
      request: { add: { "x-policy": "${route}" } },
      response: { add: { "x-policy": "${pool}" } },
    },
    retry: { "on-status": [502] },
    compression: true,
    "access-log": true,
  };
}

/** Starts the forward-auth service and OTLP sink and writes the config file. */
export async function startPolicyServices(): Promise<PolicyServices> {
  let authChecks = 0;
  let exports = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/auth") {
      authChecks++;
      return new Response(null, { status: 204, headers: { "x-auth-user": "policy-suite" } });
    }
    if (path.startsWith("/v1/")) {
      exports++;
      await req.arrayBuffer();
      return new Response("{}", { headers: { "content-type": "application/json" } });
    }
    return new Response("not found", { status: 404 });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "lb-policies-" });
  const configFile = `${dir}/policies.json`;
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({ policies: combinedPolicies(`${origin}/auth`) }),
  );
  return {
    configFile,
    flags: ["--otlp-endpoint", origin, "--otlp-interval", "100ms", "--access-log-format", "json"],
    get authChecks() {
      return authChecks;
    },
    get exports() {
      return exports;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
