/**
 * The `lb+<policy>` targets (`--policies`): `lb` as the `lb` target runs it
 * (`--front h1 --transport h1`, one worker), plus `--config` naming a file
 * whose top-level `policies` holds only that policy (policy_configs.ts).
 * They run in the same rounds as `lb`, so each one's ratio to `lb` is the
 * policy's cost on this machine at that moment.
 *
 * A variant counts as started only when the lb accepted its config, its
 * check request (with the variant's headers) came back 200 with the
 * backend's body, and `/status` shows every one of its policies on the
 * route; otherwise it is skipped with the reason (the lb's own error when
 * it rejected the config), never fatal. The Redis variant also needs a
 * redis-server (started here once) that holds a bucket after the check.
 *
 * After the runs, {@link policyEvidence} reads each one's policy metrics,
 * which say whether the policy did its work on every request (spans
 * exported, auth checks allowed, no store errors).
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import {
  headerRecord,
  missingPolicies,
  policyConfigText,
  policyLabel,
  type PolicyServices,
  type PolicyVariant,
  policyVariant,
  type PolicyVariantName,
} from "./policy_configs.ts";
import { policyMetricLines } from "./policy_report.ts";
import { stop } from "./processes.ts";
import { errorText, SkipTarget, startLb, type Target } from "./proxies.ts";
import { redisKeys, type RedisServer, startRedis } from "./redis_server.ts";
import { lbFlags, smokeCheck } from "./targets.ts";

/** Starts the variants named, in order; each one that can't run goes into `skipped` with why. */
export async function startPolicyTargets(
  names: readonly PolicyVariantName[],
  env: BenchEnv,
  backends: Backends,
  skipped: Record<string, string>,
): Promise<Target[]> {
  const origin = `http://${backends.addrs[0]}`;
  let redis: RedisServer | string | undefined;
  const started: Target[] = [];
  for (const name of names) {
    const label = policyLabel(name);
    const base = { origin, accessLogFile: accessLogPath(env, label) };
    try {
      if (policyVariant(name, base).needsRedis) {
        redis ??= await startRedis(env).catch((err) => errorText(err));
        if (typeof redis === "string") throw new SkipTarget(redis);
      }
      const services: PolicyServices = typeof redis === "object"
        ? { ...base, redisUrl: redis.url }
        : base;
      const v = policyVariant(name, services);
      started.push(
        await startVariant(v, env, backends, typeof redis === "object" ? redis : undefined),
      );
      console.log(`target ${label}: ready on port ${started.at(-1)!.port}`);
    } catch (err) {
      if (!(err instanceof SkipTarget)) throw err;
      skipped[label] = err.message;
      console.log(`target ${label}: SKIPPED — ${err.message}`);
    }
  }
  return started;
}

async function startVariant(
  v: PolicyVariant,
  env: BenchEnv,
  backends: Backends,
  redis: RedisServer | undefined,
): Promise<Target> {
  const config = `${env.tmp}/${v.label}.json`;
  await Deno.writeTextFile(config, policyConfigText(v));
  const flags = [...lbFlags("lb")!, "--config", config, ...v.flags];
  const urls = backends.addrs.map((a) => `http://${a}`);
  const lb = await startLb(v.label, env, urls, { flags });
  const target: Target = { ...lb, headers: v.headers, policy: v.name };
  try {
    await smokeCheck(target, headerRecord(v.headers));
    await statusCheck(target, v);
    if (v.needsRedis && redis) await storeCheck(redis, v);
  } catch (err) {
    if (target.proc) await stop(target.proc);
    throw err instanceof SkipTarget ? err : new SkipTarget(`${v.label}: ${errorText(err)}`);
  }
  return target;
}

/** `/status` must show every policy of the variant on the route. */
async function statusCheck(target: Target, v: PolicyVariant): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${target.adminPort}/status`, {
    signal: AbortSignal.timeout(10_000),
  });
  const status = await res.json() as { routes?: { policies?: Record<string, unknown> }[] };
  const missing = missingPolicies(v, status.routes ?? []);
  if (missing.length > 0) {
    throw new SkipTarget(
      `${v.label}: /status shows no ${missing.join(", ")} on the route: the lb ignored the config`,
    );
  }
}

/** After the check request the store must hold a bucket: the lb reached Redis, not its fallback. */
async function storeCheck(redis: RedisServer, v: PolicyVariant): Promise<void> {
  const keys = await redisKeys(redis.port);
  if (keys === 0) {
    throw new SkipTarget(
      `${v.label}: redis-server holds no key after the check request: the store was not used`,
    );
  }
}

/** Where variant `label` writes its access log, if it has one. */
function accessLogPath(env: BenchEnv, label: string): string {
  return `${env.tmp}/${label}.access.jsonl`;
}

/**
 * What the policy targets did, per target, read after the runs: their
 * non-zero policy metrics, and the lines in their access-log file.
 */
export async function policyEvidence(
  targets: readonly Target[],
  env: BenchEnv,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of targets) {
    if (t.policy === undefined || t.adminPort === undefined) continue;
    try {
      const res = await fetch(`http://127.0.0.1:${t.adminPort}/metrics`, {
        signal: AbortSignal.timeout(10_000),
      });
      out[t.name] = policyMetricLines(await res.text());
    } catch (err) {
      out[t.name] = [`(no /metrics: ${errorText(err)})`];
    }
    const lines = await countLines(accessLogPath(env, t.name));
    if (lines !== undefined) out[t.name].push(`${lines} access-log lines`);
  }
  return out;
}

/** The newlines in a file, read in chunks; undefined when there is no such file. */
async function countLines(path: string): Promise<number | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return undefined;
  }
  let n = 0;
  for await (const chunk of file.readable) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}
