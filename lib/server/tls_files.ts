/**
 * Reading the PEM files the TLS flags name. `Deno.serve` and
 * `Deno.connectTls` take PEM *contents*, not paths, so the files are read
 * here: at startup, and again on every reload so a certificate renewed on
 * disk is noticed even when its path stays the same.
 *
 * @module
 */

import type { TlsConfig } from "../config/types.ts";

/** The traffic listener's certificate chain and key, as PEM text. */
export interface ListenerPem {
  readonly cert: string;
  readonly key: string;
}

/** Reads `--tls-cert`/`--tls-key`; undefined when TLS termination is off. */
export async function readListenerPem(tls: TlsConfig): Promise<ListenerPem | undefined> {
  if (!tls.certFile || !tls.keyFile) return undefined;
  const [cert, key] = await Promise.all([
    readPem(tls.certFile, "tls-cert"),
    readPem(tls.keyFile, "tls-key"),
  ]);
  return { cert, key };
}

/** {@link readListenerPem}, synchronously, for startup. */
export function readListenerPemSync(tls: TlsConfig): ListenerPem | undefined {
  if (!tls.certFile || !tls.keyFile) return undefined;
  return { cert: readPemSync(tls.certFile, "tls-cert"), key: readPemSync(tls.keyFile, "tls-key") };
}

/** Reads a pool's `backend-ca` as one PEM bundle; undefined when not set. */
export function readBackendCaSync(file: string | undefined): string[] | undefined {
  return file ? [readPemSync(file, "backend-ca")] : undefined;
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return checkPem(await Deno.readTextFile(path), path, flag);
  } catch (err) {
    throw fileError(err, path, flag);
  }
}

function readPemSync(path: string, flag: string): string {
  try {
    return checkPem(Deno.readTextFileSync(path), path, flag);
  } catch (err) {
    throw fileError(err, path, flag);
  }
}

function checkPem(text: string, path: string, flag: string): string {
  if (!text.includes("-----BEGIN ")) {
    throw new Error(`--${flag}: ${path} is not a PEM file (no -----BEGIN line)`);
  }
  return text;
}

function fileError(err: unknown, path: string, flag: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(`--${flag}:`)
    ? new Error(message)
    : new Error(`--${flag}: can't read ${path}: ${message}`);
}
