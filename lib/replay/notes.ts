/**
 * What a replay of a given configuration simulates and what it can't, as
 * lines for the report: always the ground rules (in process, every backend
 * up, seeded randomness), and, when the configuration has them, the parts
 * the log can't feed (header and cookie tests and keys, credentials,
 * forwarded client addresses, discovered backends, a shared store).
 *
 * @module
 */

import type { LbConfig } from "../config/types.ts";

/** The notes for replaying `config` with `seed`; `ignoredEnv` names environment variables set but not read. */
export function replayNotes(
  config: LbConfig,
  seed: number,
  ignoredEnv: readonly string[] = [],
): string[] {
  const notes = [
    "simulated in process: no listener, nothing sent, no health checks, DNS or connections; " +
    "every backend of the new config is up, not ejected, with nothing in flight",
    `random choices are seeded (--seed ${seed}); requests are replayed in log order`,
    "before is what the log recorded; a request the lb answered itself (no backend) counts as rejected before",
  ];
  const headerRoutes = config.routes.filter((r) => r.match.headers !== undefined);
  if (headerRoutes.length > 0) {
    notes.push(
      `request headers are not logged: header tests of routes ${names(headerRoutes)} never match`,
    );
  }
  for (const pool of config.pools) {
    const key = pool.balancing.hashKey;
    if (pool.strategy === "consistent-hash" && (key.kind === "header" || key.kind === "cookie")) {
      notes.push(`pool ${pool.name}: its hash key (${key.kind} ${key.name}) is not logged: absent`);
    }
    if (pool.strategy === "sticky-cookie") {
      notes.push(`pool ${pool.name}: cookies are not logged: every request comes without one`);
    }
    if (pool.discovery.targets.length > 0) {
      notes.push(
        `pool ${pool.name}: discovers backends by DNS; only its ${pool.backends.length} static ones are simulated`,
      );
    }
  }
  const limited = config.routes.filter((r) => r.policies?.rateLimit !== undefined);
  if (limited.length > 0) {
    notes.push(
      `rate limits (routes ${names(limited)}) run local token buckets on the log's times ` +
        "(arrival = time - duration_ms), as one lb process would; header and cookie key parts are absent",
    );
  }
  const stored = limited.filter((r) => r.policies!.rateLimit!.store !== undefined);
  if (stored.length > 0) {
    notes.push(`rate limits of routes ${names(stored)} use Redis live; simulated locally here`);
  }
  const authed = config.routes.filter((r) =>
    r.policies?.basicAuth !== undefined || r.policies?.forwardAuth !== undefined
  );
  if (authed.length > 0) {
    notes.push(
      `auth on routes ${names(authed)}: a request without a logged user needs credentials ` +
        "(not simulated); a logged user passed before and passes again (basic auth: if still a user)",
    );
  }
  if (config.trustProxy.length > 0) {
    notes.push(
      "--trust-proxy is set: policies live see the forwarded client, the log has the peer's address",
    );
  }
  if (config.routes.some((r) => r.mirror !== undefined)) {
    notes.push("mirrored copies are not counted");
  }
  if (ignoredEnv.length > 0) {
    notes.push(
      `environment variables ignored (the replay reads the config file alone): ${
        ignoredEnv.join(", ")
      }`,
    );
  }
  return notes;
}

function names(routes: readonly { readonly name: string }[]): string {
  return routes.map((r) => r.name).join(", ");
}
