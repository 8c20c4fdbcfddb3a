/**
 * DNS service discovery (`--discover`): resolves the targets at once, then
 * again whenever the interval passes or the records' TTL runs out, whichever
 * is sooner, and hands the discovered backends to `onChange` only when the
 * set (origins and weights) changed. A failed round keeps the last good set:
 * a DNS outage must not drain backends that are still serving.
 *
 * Deno 2.9.6 reports SERVFAIL and REFUSED answers as "not found" (see
 * `resolve.ts`), so an outage of an upstream resolver can look like every
 * name vanishing. An answer with no addresses at all therefore does not
 * replace a non-empty set unless `allowEmpty` is set; backends that really
 * went away fail their health checks and get no traffic meanwhile.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import type { DiscoverTarget } from "../config/types.ts";
import {
  createResolver,
  type DnsResolver,
  type DnsServer,
  type Resolution,
  resolveTargets,
} from "./resolve.ts";
import { diffSpecs, sameSpecs } from "./specs.ts";

export {
  createResolver,
  DnsLookupError,
  type DnsResolver,
  type DnsServer,
  type Resolution,
  resolveTargets,
} from "./resolve.ts";

/** Where discovery reports changes and failures; a LogTape `Logger` fits. */
export interface DiscoveryLog {
  info(message: string, properties: Record<string, unknown>): void;
  warning(message: string, properties: Record<string, unknown>): void;
}

/** Options of {@link DnsDiscovery}. */
export interface DnsDiscoveryOptions {
  readonly targets: readonly DiscoverTarget[];
  /** Longest time between rounds (ms); a TTL that runs out sooner brings the next round forward. */
  readonly intervalMs: number;
  /** The DNS server to ask; the system's resolvers when absent. */
  readonly dnsServer?: DnsServer;
  /** Called with the whole discovered set, sorted by origin, each time it changes (never in between). */
  readonly onChange: (specs: BackendSpec[]) => void;
  readonly log: DiscoveryLog;
  /** Builds the resolver once, at construction; {@link createResolver} by default. */
  readonly resolverFactory?: (server?: DnsServer) => DnsResolver;
  /** Clock (ms) for TTL expiry; `Date.now` by default. */
  readonly now?: () => number;
  /** Shortest time between rounds (ms), so a TTL of 0 is no busy loop; 1000 by default. */
  readonly minIntervalMs?: number;
  /** Let an answer with no addresses at all replace a non-empty set; false by default (see above). */
  readonly allowEmpty?: boolean;
}

/**
 * Time to the next round: the interval, or sooner when the TTL runs out
 * (`ttlLeftMs`, negative once it has), but never under the floor. So after a
 * failure with a stale set, or before the first answer, it is the floor.
 */
export function roundDelay(ttlLeftMs: number, intervalMs: number, minIntervalMs: number): number {
  return Math.max(minIntervalMs, Math.min(intervalMs, ttlLeftMs));
}

/**
 * Re-resolves discovery targets on a timer until stopped. Rounds never
 * overlap; the next is scheduled when one ends.
 */
export class DnsDiscovery {
  readonly #opts: DnsDiscoveryOptions;
  readonly #resolver: DnsResolver;
  readonly #now: () => number;
  readonly #minIntervalMs: number;
  #specs: readonly BackendSpec[] = [];
  /** When the last good answer's TTL runs out; 0 before the first, so failures retry soon. */
  #expiresAt = 0;
  /** Failed rounds in a row; the first of a streak is logged, and the recovery. */
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  /** No round has succeeded yet: an empty first answer is worth a warning. */
  #first = true;

  constructor(options: DnsDiscoveryOptions) {
    this.#opts = options;
    this.#resolver = (options.resolverFactory ?? createResolver)(options.dnsServer);
    this.#now = options.now ?? Date.now;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
  }

  /** The last good discovered set, sorted by origin (empty before the first answer). */
  get specs(): readonly BackendSpec[] {
    return this.#specs;
  }

  /** Resolves now, then keeps resolving on schedule. Calling it again does nothing. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#next();
  }

  /** Clears the timer, abandons a round in flight and waits for it to settle; no `onChange` after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#round) {
      this.#resolver.cancel?.();
      await this.#round;
    }
  }

  #next(): void {
    this.#timer = undefined;
    this.#round = this.#resolveOnce().finally(() => {
      this.#round = undefined;
      if (!this.#stopped) this.#timer = setTimeout(() => this.#next(), this.#delay());
    });
  }

  /** Time to the next round, from the last good answer's remaining TTL. */
  #delay(): number {
    return roundDelay(this.#expiresAt - this.#now(), this.#opts.intervalMs, this.#minIntervalMs);
  }

  async #resolveOnce(): Promise<void> {
    let resolution: Resolution;
    try {
      resolution = await resolveTargets(this.#opts.targets, this.#resolver, this.#now);
    } catch (err) {
      if (!this.#stopped) this.#failed(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.#stopped) return;
    const { specs } = resolution;
    if (specs.length === 0 && this.#specs.length > 0 && !this.#opts.allowEmpty) {
      this.#failed("no name has any address (Deno reports SERVFAIL and REFUSED that way too)");
      return;
    }
    if (this.#first && specs.length === 0) {
      this.#opts.log.warning("DNS discovery found no addresses for {targets}", {
        targets: this.#opts.targets.map((t) => `${t.kind}:${t.name}`).join(" "),
      });
    }
    this.#first = false;
    if (!sameSpecs(specs, this.#specs)) {
      try {
        this.#opts.onChange([...specs]);
      } catch (err) {
        this.#failed(`applying the discovered set failed: ${err}`);
        return;
      }
      this.#logChange(specs);
      this.#specs = specs;
    }
    this.#expiresAt = resolution.expiresAt;
    if (this.#failures > 0) {
      this.#opts.log.info("DNS discovery recovered after {failures} failed round(s)", {
        failures: this.#failures,
      });
      this.#failures = 0;
    }
  }

  #failed(error: string): void {
    this.#failures++;
    if (this.#failures > 1) return;
    this.#opts.log.warning(
      "DNS discovery failed ({error}); keeping the last {count} discovered backend(s)",
      { error, count: this.#specs.length },
    );
  }

  #logChange(specs: readonly BackendSpec[]): void {
    const { added, removed, reweighted } = diffSpecs(this.#specs, specs);
    const list = (origins: string[]) => origins.length === 0 ? "none" : origins.join(" ");
    this.#opts.log.info(
      "discovered backends: {count}; added {added}; removed {removed}; reweighted {reweighted}",
      {
        count: specs.length,
        added: list(added),
        removed: list(removed),
        reweighted: list(reweighted),
      },
    );
  }
}
