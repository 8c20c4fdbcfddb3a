/**
 * A transport whose module is loaded on its first request. `node-http`
 * pulls Deno's `node:http`, `node:https` and `node:net` layers into every
 * isolate that imports it, about 1.4 MiB of heap each, and with 2 workers
 * 5-7 MiB of peak RSS at 1,000 connections (docs/benchmarks.md), though
 * most configs never ask for it.
 *
 * @module
 */

import type { Transport, UpstreamRequest, UpstreamTarget } from "../core/transport.ts";

/**
 * Wraps `load`, called once on the first request; `tunnels` must be what the
 * loaded transport says, as a front reads it before any request.
 */
export function lazyTransport(tunnels: boolean, load: () => Promise<Transport>): Transport {
  let loaded: Promise<Transport> | undefined;
  return {
    tunnels,
    async request(target: UpstreamTarget, req: UpstreamRequest) {
      const transport = await (loaded ??= load());
      return transport.request(target, req);
    },
    async close() {
      // A transport that never loaded has nothing open.
      const transport = await loaded?.catch(() => undefined);
      await transport?.close();
    },
  };
}
