/**
 * The TLS listener's certificate, and its reload without a restart.
 * `Deno.serve` can't swap certificates in place, so a TLS listener binds
 * with `reusePort` (Linux, `--unstable-net`) and a reload starts a second
 * listener on the same port with the new files, then drains the first: the
 * kernel spreads new connections over both until the old one stops
 * accepting, and its requests in flight finish on the old certificate.
 *
 * @module
 */

import type { TlsConfig } from "../config/types.ts";
import type { Logger } from "../core/logging.ts";
import type { TrafficListener } from "./listeners.ts";
import { type ListenerPem, readListenerPem, readListenerPemSync } from "./tls_files.ts";

/** Binds a traffic listener on a port, with a certificate or without. */
export type Bind = (
  port: number,
  pem: ListenerPem | undefined,
  reusePort: boolean,
) => TrafficListener;

/** Owns the traffic listener(s) and the certificate they serve. */
export class CertificateReloader {
  #pem: ListenerPem | undefined;
  readonly #log: Logger;
  readonly #canRebind: boolean;
  #bind: Bind | undefined;
  #listener: TrafficListener | undefined;
  /** Listeners replaced by a reload, still draining. */
  readonly #retiring = new Set<Promise<boolean>>();

  /** Reads the certificate and key now (throwing on a bad file). */
  constructor(tls: TlsConfig, log: Logger) {
    this.#pem = readListenerPemSync(tls);
    this.#log = log;
    // Asking for reusePort without --unstable-net exits the process instead of
    // throwing, so the flag is detected by an API it alone enables.
    this.#canRebind = this.#pem !== undefined && Deno.build.os === "linux" &&
      "listenDatagram" in Deno;
    if (this.#pem && !this.#canRebind) {
      log.warning("certificate reloads need a restart (reusePort needs Linux and --unstable-net)");
    }
  }

  /** The certificate and key in use; undefined when serving plain HTTP. */
  get pem(): ListenerPem | undefined {
    return this.#pem;
  }

  /** Binds the listener on `port` (shared with other threads when `sharePort`); returns this. */
  bind(bind: Bind, port: number, sharePort = false): this {
    this.#bind = bind;
    this.#listener = bind(port, this.#pem, sharePort || this.#canRebind);
    return this;
  }

  /** The listener taking new connections. */
  get listener(): TrafficListener {
    return this.#listener!;
  }

  /**
   * Rebinds when the certificate or key (path or contents) changed. Resolves
   * false when it changed but can't be applied without a restart; rejects
   * when the new files can't be read or used (the old listener untouched).
   */
  async reload(tls: TlsConfig, shuttingDown: boolean, drainMs: number): Promise<boolean> {
    const pem = await readListenerPem(tls);
    const old = this.#listener;
    if (!pem || !this.#pem || !old || (pem.cert === this.#pem.cert && pem.key === this.#pem.key)) {
      return true;
    }
    if (!this.#canRebind || shuttingDown) return false;
    this.#listener = this.#bind!(old.addr.port, pem, true);
    this.#pem = pem;
    const draining = old.shutdown(drainMs);
    this.#retiring.add(draining);
    draining.finally(() => this.#retiring.delete(draining)).catch(() => {});
    this.#log.info("listener certificate reloaded; new connections use it");
    return true;
  }

  /** Closes every listener, draining for up to `timeoutMs`; true when all drained. */
  async shutdown(timeoutMs: number): Promise<boolean> {
    const [drained] = await Promise.all([this.#listener!.shutdown(timeoutMs), ...this.#retiring]);
    return drained;
  }
}
