/**
 * The TCP health probe: a backend passes when a connection to it opens
 * within the timeout. The connection is always closed at once.
 *
 * @module
 */

/** Where to probe. */
export interface ProbeTarget {
  /** Host name or IP literal (IPv6 without brackets) to connect to. */
  readonly hostname: string;
  /** TCP port to connect to. */
  readonly port: number;
  /** `https://` backend: HTTP checks speak TLS. */
  readonly tls?: boolean;
}

/** A probe: resolves when the backend passes, rejects with the reason when it fails. */
export type Prober = (target: ProbeTarget, signal: AbortSignal) => Promise<void>;

/**
 * Opens and closes a TCP connection. `Deno.connect` has no timeout of its own
 * (DENO-NOTES), so the caller's signal must carry one.
 */
export async function tcpProbe(target: ProbeTarget, signal: AbortSignal): Promise<void> {
  const conn = await Deno.connect({
    hostname: target.hostname,
    port: target.port,
    transport: "tcp",
    signal,
  });
  conn.close();
}

/** A short reason for a failed probe, for logs and `/status`. */
export function describeProbeError(err: unknown): string {
  if (err instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return "probe timed out";
  }
  if (err instanceof Deno.errors.TimedOut) return "probe timed out";
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}
