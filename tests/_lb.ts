/**
 * Starts the real `lb` program (main.ts) as a child process on loopback
 * port 0, for integration tests.
 *
 * @module
 */

import { type RunningProcess, startDeno } from "./_process.ts";
import { FRONT_NAMES, TRANSPORT_NAMES } from "../lib/config/names.ts";
import { POLICY_AUTHORIZATION, type PolicyServices, startPolicyServices } from "./_policies.ts";

/**
 * A front and a transport, and whether every edge policy is on: the proxy
 * suites run against every pair, and once more with all policies on one
 * route (`_policies.ts`).
 */
export interface Variant {
  readonly front: (typeof FRONT_NAMES)[number];
  readonly transport: (typeof TRANSPORT_NAMES)[number];
  /** `front/transport`, `+policies` with them, for test names. */
  readonly name: string;
  /** Whether the lb runs with the combined policies. */
  readonly policies: boolean;
  /** Header lines every request of the suites adds (the policies' credentials). */
  readonly lines: readonly string[];
  /** The same as fields, for `fetch`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Every front with every transport, then the default pair with every policy on. */
export const VARIANTS: readonly Variant[] = [
  ...FRONT_NAMES.flatMap((front) =>
    TRANSPORT_NAMES.map((transport) => ({
      front,
      transport,
      name: `${front}/${transport}`,
      policies: false,
      lines: [],
      headers: {},
    }))
  ),
  {
    front: "h1",
    transport: "h1",
    name: "h1/h1+policies",
    policies: true,
    lines: [`Authorization: ${POLICY_AUTHORIZATION}`],
    headers: { authorization: POLICY_AUTHORIZATION },
  },
];

/** A running lb process and its addresses. */
export interface LbProcess extends AsyncDisposable {
  readonly proc: RunningProcess;
  readonly port: number;
  readonly adminPort: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly adminUrl: string;
  /** SIGTERM, wait for exit; returns the exit code. */
  stop(): Promise<number>;
  /** With a `+policies` variant: the services its policies use. */
  readonly policyServices?: PolicyServices;
}

/** Traffic and admin listeners on loopback, on ports the system picks. */
export const LOOPBACK_PORTS = [
  "--host",
  "127.0.0.1",
  "--port",
  "0",
  "--admin-host",
  "127.0.0.1",
  "--admin-port",
  "0",
];

/**
 * Flags that make tests quick: fast probes, short timeouts. A probe may take
 * a second and a backend needs two failures to go down, so a busy machine
 * (test files run in parallel) can't take a healthy backend out mid-test.
 */
export const FAST_FLAGS = [
  "--health-interval",
  "200ms",
  "--health-timeout",
  "1s",
  "--health-rise",
  "1",
  "--health-fall",
  "2",
  "--shutdown-timeout",
  "5s",
];

/**
 * Starts lb in front of `backends` with `extra` flags (after {@link FAST_FLAGS}),
 * and `env` on top of this process's environment.
 * `LB_TEST_TRANSPORT` in the environment picks the upstream transport for
 * tests that don't name one.
 */
export async function startLb(
  backends: string[],
  extra: string[] = [],
  env?: Record<string, string>,
): Promise<LbProcess> {
  const transport = Deno.env.get("LB_TEST_TRANSPORT");
  if (transport && !extra.includes("--transport")) extra = ["--transport", transport, ...extra];
  const proc = await startDeno("main.ts", [
    ...LOOPBACK_PORTS,
    // No --backends at all when there are none: a config file may supply them.
    ...(backends.length > 0 ? ["--backends", backends.join(",")] : []),
    ...FAST_FLAGS,
    ...extra,
  ], {
    env,
    listenPattern: /lb listening on https?:\/\/([^\s,]+):(\d+), admin on http:\/\/[^\s,]+:(\d+)/,
  });
  const adminPort = Number(proc.match[3]);
  const stop = async () => (await proc.stop("SIGTERM")).code;
  return {
    proc,
    port: proc.port,
    adminPort,
    url: `http://127.0.0.1:${proc.port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** {@link startLb} with an explicit `--front` and `--transport`, for suites run against every pair. */
export async function startLbWith(
  variant: Variant,
  backends: string[],
  extra: string[] = [],
): Promise<LbProcess> {
  const flags = ["--front", variant.front, "--transport", variant.transport, ...extra];
  if (!variant.policies) return await startLb(backends, flags);
  const services = await startPolicyServices();
  let lb: LbProcess;
  try {
    lb = await startLb(backends, [...flags, "--config", services.configFile, ...services.flags]);
  } catch (err) {
    await services[Symbol.asyncDispose]();
    throw err;
  }
  let stopped: Promise<number> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        return await lb.stop();
      } finally {
        await services[Symbol.asyncDispose]();
      }
    })();
  return {
    ...lb,
    stop,
    policyServices: services,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Fetches an admin path and returns the parsed `/status`. */
export async function status(lb: LbProcess): Promise<{
  backends: { url: string; state: string; reason: string; inFlight: number }[];
  ready: boolean;
}> {
  const res = await fetch(`${lb.adminUrl}/status`);
  return await res.json();
}

/** Polls `check` every 25 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(text);
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]) * 1024;
}
