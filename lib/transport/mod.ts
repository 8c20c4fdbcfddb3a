/**
 * Transport selection for `--transport`.
 *
 * @module
 */

import { H1Transport } from "./h1/client.ts";
import { NodeHttpTransport } from "./node_http.ts";
import type { Transport, TransportOptions } from "./types.ts";

/** Names accepted by `--transport`; the first is the default. */
export const TRANSPORT_NAMES = ["h1", "node-http"] as const;
/** A transport name. */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Creates the transport for a configured name. */
export function createTransport(name: TransportName, options: TransportOptions): Transport {
  switch (name) {
    case "h1":
      return new H1Transport(options);
    case "node-http":
      return new NodeHttpTransport(options);
  }
}

export * from "./types.ts";
