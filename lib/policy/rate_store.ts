/**
 * The shared rate-limit store: the token-bucket script on a Redis
 * connection, behind a circuit. A check the store can't answer in time
 * (an error, a timeout, a lost connection) is counted by reason in
 * `lb_rate_limit_store_errors_total` and handed back as a failure for the
 * policy's fallback; while the circuit is open no check is sent at all
 * (counted as `circuit`), so a dead or slow Redis adds no latency past the
 * first few checks of each cool-down.
 *
 * One connection per server URL and one store (with its circuit) per URL
 * and settings are kept per thread in the policy runtime, across reloads.
 *
 * @module
 */

import type { RateStoreConfig } from "../config/policies/types.ts";
import { formatDuration } from "../core/duration.ts";
import type { Logger } from "../core/logging.ts";
import type { CounterChild } from "../metrics/registry.ts";
import type { Verdict } from "./rate_bucket.ts";
import { Circuit } from "./rate_circuit.ts";
import { RedisClient } from "./redis_client.ts";
import { type FailureReason, StoreFailure } from "./redis_pending.ts";
import { checkParts, isNoScript, type ScriptCall, verdictOf } from "./rate_script.ts";
import type { PolicyDeps } from "./types.ts";

/** What a check of the store came to: the store's verdict, or why there is none. */
export type StoreAnswer = Verdict | StoreFailure;

/** The store of one Redis server with one set of settings. */
export class RateStore {
  /** The circuit in front of the server. */
  readonly circuit: Circuit;
  readonly #client: RedisClient;
  readonly #config: RateStoreConfig;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #errors: Record<FailureReason | "circuit", CounterChild>;

  constructor(client: RedisClient, config: RateStoreConfig, deps: PolicyDeps) {
    this.#client = client;
    this.#config = config;
    this.#now = deps.now;
    this.#log = deps.log;
    this.circuit = new Circuit(config.failures, config.coolDownMs);
    const errors = deps.metrics.rateLimitStoreErrors;
    this.#errors = {
      timeout: errors.labels("timeout"),
      connection: errors.labels("connection"),
      reply: errors.labels("reply"),
      circuit: errors.labels("circuit"),
    };
  }

  /**
   * Checks `key` (the whole Redis key). Undefined, at once and counted,
   * while the circuit is open; otherwise the verdict or the failure, within
   * the store's timeout.
   */
  check(call: ScriptCall, key: string): Promise<StoreAnswer> | undefined {
    const admission = this.circuit.allow(this.#now());
    if (admission === "no") {
      this.#errors.circuit.inc();
      return undefined;
    }
    return this.#ask(call, key, admission === "probe");
  }

  /** Milliseconds until the circuit lets a probe through (for `Retry-After`). */
  retryInMs(): number {
    return this.circuit.retryInMs(this.#now());
  }

  async #ask(call: ScriptCall, key: string, probe: boolean): Promise<StoreAnswer> {
    const timeoutMs = this.#config.timeoutMs;
    const start = this.#now();
    try {
      let reply = await this.#client.call(checkParts(call, key), timeoutMs);
      if (isNoScript(reply)) {
        // What is left of the same deadline: a lost script costs no more time than a check.
        const left = Math.max(1, timeoutMs - (this.#now() - start));
        reply = await this.#client.call(checkParts(call, key, true), left);
      }
      const verdict = verdictOf(reply);
      if (verdict === undefined) {
        throw new StoreFailure("reply", `unexpected reply ${JSON.stringify(reply)}`);
      }
      if (this.circuit.success()) {
        this.#log.info("rate-limit store {store} answers again: buckets are shared again", {
          store: this.#client.address,
        });
      }
      return verdict;
    } catch (err) {
      const failure = err instanceof StoreFailure
        ? err
        : new StoreFailure("reply", err instanceof Error ? err.message : String(err));
      this.#errors[failure.reason].inc();
      if (this.circuit.failure(this.#now(), probe)) {
        this.#log.warning(
          "rate-limit store {store} failed {failures} times in a row ({error}): {fallback} for {coolDown}, then one probe",
          {
            store: this.#client.address,
            failures: this.#config.failures,
            error: failure.message,
            fallback: this.#config.onError === "open" ? "local buckets decide" : "requests get 503",
            coolDown: formatDuration(this.#config.coolDownMs),
          },
        );
      }
      return failure;
    }
  }

  /** The connection is the runtime's to close (it may serve other stores). */
  close(): void {}
}

/** The thread's store for `config`: its connection shared per URL, its circuit per URL and settings. */
export function sharedStore(config: RateStoreConfig, deps: PolicyDeps): RateStore {
  const client = deps.shared(`redis:${config.url}`, () => new RedisClient(config));
  const settings = [
    config.url,
    config.timeoutMs,
    config.failures,
    config.coolDownMs,
    config.onError,
  ];
  return deps.shared(
    `rate-store:${settings.join("\n")}`,
    () => new RateStore(client, config, deps),
  );
}
