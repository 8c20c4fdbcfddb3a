/**
 * A transport whose module is loaded on its first request. `node-http`
 * pulls Deno's `node:http`, `node:https` and `node:net` layers into every
 * isolate that imports it, about 1.4 MiB of heap each (2 MiB of peak RSS
 * with 2 workers, docs/benchmarks.md), though most configs never ask for
 * it.
 *
 * @module
 */

import type { Transport, UpstreamRequest, UpstreamTarget } from "../core/transport.ts";

/**
 * Wraps `load`, called once on the first request; `tunnels` must be what the
 * loaded transport says, as a front reads it before any request. A load
 * that fails (a module missing from a broken build) fails every request
 * with its error, which the proxy answers as it does any non-upstream
 * failure. Like the h1 transport, it still serves a request that comes
 * after `close` (a retiring generation's last); what that opens is closed
 * by the idle timeout.
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
