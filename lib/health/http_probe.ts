/**
 * The HTTP health probe (`--health-path`): a `GET` on its own connection,
 * passing when the status is in the expected range. Only the status line is
 * read; the connection is closed right after, so a probe never holds a
 * pooled connection or waits for a body.
 *
 * @module
 */

import type { HttpCheckConfig } from "../config/types.ts";
import type { Prober, ProbeTarget } from "./tcp_probe.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Makes a prober for `config`. `https://` backends are checked over TLS,
 * verified like traffic (the default roots plus `caCerts`).
 */
export function httpProbe(config: HttpCheckConfig, caCerts?: string[]): Prober {
  return async (target: ProbeTarget, signal: AbortSignal) => {
    const tcp = await Deno.connect({
      hostname: target.hostname,
      port: target.port,
      transport: "tcp",
      signal,
    });
    let conn: Deno.Conn = tcp;
    if (target.tls) {
      try {
        conn = await Deno.startTls(tcp, { hostname: target.hostname, caCerts });
      } catch (err) {
        tcp.close();
        throw err;
      }
    }
    // Closing the socket is what cancels a read or write that hangs.
    const onAbort = () => conn.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const host = config.host ?? hostHeader(target);
      const request = `GET ${config.path} HTTP/1.1\r\nHost: ${host}\r\n` +
        "User-Agent: deno-lb-health\r\nConnection: close\r\n\r\n";
      await writeAll(conn, encoder.encode(request));
      const status = await readStatus(conn);
      if (status < config.statusMin || status > config.statusMax) {
        throw new Error(`health check answered ${status}`);
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      try {
        conn.close();
      } catch { /* closed by the abort */ }
    }
  };
}

function hostHeader(target: ProbeTarget): string {
  const host = target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname;
  return `${host}:${target.port}`;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads up to the end of the status line and returns the status code. */
async function readStatus(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(1024);
  let n = 0;
  for (;;) {
    const r = await conn.read(buf.subarray(n));
    if (r === null) throw new Error("health check: connection closed before a status line");
    n += r;
    const text = decoder.decode(buf.subarray(0, n));
    const eol = text.indexOf("\r\n");
    if (eol !== -1) {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.slice(0, eol));
      if (!m) throw new Error("health check: malformed status line");
      return Number(m[1]);
    }
    if (n === buf.length) throw new Error("health check: status line too long");
  }
}
