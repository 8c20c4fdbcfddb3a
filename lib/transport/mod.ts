/**
 * Transport selection for `--transport`.
 *
 * @module
 */

import { H1Transport } from "./h1/client.ts";
import { lazyTransport } from "./lazy.ts";
import type { Transport, TransportOptions } from "../core/transport.ts";
import type { TransportName } from "../config/names.ts";

/** Creates the transport for a configured name. */
export function createTransport(name: TransportName, options: TransportOptions): Transport {
  switch (name) {
    case "h1":
      return new H1Transport(options);
    case "node-http":
      // Loaded when first used: few configs ask for it (see lazy.ts).
      return lazyTransport(
        false,
        async () => new (await import("./node_http.ts")).NodeHttpTransport(options),
      );
  }
}

export * from "../core/transport.ts";
