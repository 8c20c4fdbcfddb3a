/**
 * What a reload can't apply. The option table marks each option reloadable
 * or not; comparing two configs' settings (their effective option values
 * as text) then names the restart-only options that changed, so the server
 * can say in its log which changes wait for a restart.
 *
 * @module
 */

import { fileOptions, type OptionName, optionSpec, type Scope } from "./options.ts";
import type { LbConfig } from "./types.ts";

/** Restart-only options of `scope`, and those that need one only to be turned on or off. */
function restartOnly(scope: Scope): OptionName[] {
  return fileOptions(scope).filter((n) =>
    !optionSpec(n).reload || optionSpec(n).toggleNeedsRestart
  );
}

function changed(name: OptionName, a: string | undefined, b: string | undefined): boolean {
  // TLS on or off changes the listener's protocol; new files are applied by rebinding.
  if (optionSpec(name).toggleNeedsRestart) return !a !== !b;
  return a !== b;
}

/**
 * Names of the options a running lb with `a` can't change to `b`'s values:
 * global ones as named (`port`), pool ones as `pools.<name>.<option>` for
 * pools in both (a new pool starts with its own settings; a removed one
 * just goes). In table order, then pool order. Pure.
 */
export function restartNeeded(a: LbConfig, b: LbConfig): string[] {
  const out: string[] = [];
  const ga = a.settings[""] ?? {};
  const gb = b.settings[""] ?? {};
  for (const name of restartOnly("global")) {
    if (changed(name, ga[name], gb[name])) out.push(name);
  }
  const pooled = restartOnly("pool");
  for (const pool of a.pools) {
    const pa = a.settings[pool.name];
    const pb = b.settings[pool.name];
    if (!pa || !pb) continue;
    for (const name of pooled) {
      if (changed(name, pa[name], pb[name])) out.push(`pools.${pool.name}.${name}`);
    }
  }
  return out;
}
