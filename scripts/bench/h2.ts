/**
 * The h2 case's own targets: HTTPS instances of the lb and of NGINX, in
 * front of the same backends as every other case, with a self-signed
 * certificate made for the run. They are started when the case begins and
 * stopped when it ends; the plain-HTTP targets keep running meanwhile.
 *
 * Only the lb targets and `nginx` take part; the relays, `fetch-proxy`,
 * `haproxy` and `direct` have no HTTPS side here. Each lb target keeps
 * its `--front`, although today TLS always goes through `Deno.serve`
 * (lib/config_front.ts), so `lb` and `lb-deno-serve` run the same server
 * here; should a front's TLS listener stop offering h2 by ALPN, its target
 * is skipped with h2load's finding (it falls back to HTTP/1.1).
 *
 * @module
 */

import type { Backends, BenchEnv } from "./backends.ts";
import type { TlsFiles } from "./configs.ts";
import { h2loadArgs, h2loadFailure, parseH2loadOutput } from "./h2load.ts";
import { run, stop } from "./processes.ts";
import { errorText, SkipTarget, startLb, startNginxProxy, type Target } from "./proxies.ts";
import { lbFlags, type TargetName } from "./targets.ts";

/** Whether `name` gets an HTTPS instance in the h2 case. */
export function takesPartInH2(name: TargetName): boolean {
  return name === "nginx" || lbFlags(name) !== undefined;
}

/**
 * A P-256 self-signed certificate for `localhost`, valid two days, as
 * `cert.pem` and `key.pem` in `dir`. h2load does not verify certificates.
 */
export async function makeCertificate(openssl: string, dir: string): Promise<TlsFiles> {
  const files = { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` };
  const result = await run([
    openssl,
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
    ...["-nodes", "-subj", "/CN=localhost", "-days", "2"],
    ...["-keyout", files.keyFile, "-out", files.certFile],
  ], AbortSignal.timeout(30_000));
  if (result.code !== 0) {
    throw new Error(`openssl req exited ${result.code}: ${result.stderr.trim()}`);
  }
  return files;
}

/** Options for {@link startH2Targets}. */
export interface H2TargetsOptions {
  readonly env: BenchEnv;
  readonly backends: Backends;
  readonly tls: TlsFiles;
  readonly h2load: string;
  /** Target name → why it was skipped; filled in. */
  readonly skipped: Record<string, string>;
}

/** Starts an HTTPS instance of each of `names` that takes part; checks each with h2load. */
export async function startH2Targets(
  names: readonly TargetName[],
  o: H2TargetsOptions,
): Promise<Target[]> {
  const urls = o.backends.addrs.map((a) => `http://${a}`);
  const targets: Target[] = [];
  for (const name of names.filter(takesPartInH2)) {
    try {
      const flags = lbFlags(name);
      const target = flags
        ? await startLb(name, o.env, urls, { flags, tls: o.tls })
        : await startNginxProxy(o.env, o.backends, { tls: o.tls });
      try {
        await h2Check(o.h2load, target);
      } catch (err) {
        if (target.proc) await stop(target.proc);
        throw err;
      }
      targets.push(target);
      console.log(`target ${name} (h2): ready on port ${target.port}`);
    } catch (err) {
      if (!(err instanceof SkipTarget)) throw err;
      o.skipped[`${name} (h2)`] = err.message;
      console.log(`target ${name} (h2): SKIPPED — ${err.message}`);
    }
  }
  return targets;
}

/** Ten requests over one connection must all succeed over h2. */
async function h2Check(h2load: string, target: Target): Promise<void> {
  const url = `https://127.0.0.1:${target.port}/`;
  try {
    const args = h2loadArgs({ url, requests: 10, clients: 1, streams: 1 });
    const result = await run([h2load, ...args], AbortSignal.timeout(20_000));
    const h = parseH2loadOutput(result.stdout);
    const failure = h2loadFailure(h) ??
      (h.requests.succeeded < 10 ? `${h.requests.failed} of 10 requests failed` : undefined);
    if (failure) throw new Error(failure);
  } catch (err) {
    throw new SkipTarget(
      `${target.name} failed its h2 check (h2load -n 10 ${url}): ${errorText(err)}`,
    );
  }
}
