/**
 * Request IDs: a trusted peer's well-formed ID is kept (so one ID follows a
 * request through every proxy in front of this one); otherwise a random
 * UUID is made. It goes upstream, back to the client, into the access log
 * and into the variables of header rules.
 *
 * @module
 */

import type { RequestIdConfig } from "../config/policies/types.ts";
import { headerValue } from "../core/transport.ts";
import type { Policy, PolicyDeps } from "./types.ts";

/** IDs kept from a peer: 1-200 visible ASCII characters, nothing that could split a log line. */
const KEEPABLE = /^[\x21-\x7e]{1,200}$/;

/** The ID to use: `incoming` when it may be kept, else `make()`. Pure. */
export function chooseRequestId(
  incoming: string | undefined,
  keep: boolean,
  make: () => string,
): string {
  return keep && incoming !== undefined && KEEPABLE.test(incoming) ? incoming : make();
}

/** The request-id policy. */
export function createRequestId(
  config: RequestIdConfig,
  deps?: PolicyDeps,
  route = "",
  make: () => string = () => crypto.randomUUID(),
): Policy {
  const name = config.header;
  const kept = deps?.metrics.requestIds.labels(route, "kept");
  const generated = deps?.metrics.requestIds.labels(route, "generated");
  const policy: { -readonly [K in keyof Policy]: Policy[K] } = {
    kind: "request-id",
    request(x) {
      const incoming = headerValue(x.request.headers, name);
      const id = chooseRequestId(incoming, config.trustIncoming && x.trustedPeer, make);
      (id === incoming ? kept : generated)?.inc();
      x.requestId = id;
      x.explain?.policy("request-id", `${id === incoming ? "kept" : "generated"} ${id}`);
      const up = x.upstreamHeaders;
      for (let i = up.length - 1; i >= 0; i--) if (up[i][0] === name) up.splice(i, 1);
      up.push([name, id]);
      return undefined;
    },
  };
  if (config.echo) {
    policy.response = (reply, x) =>
      x.requestId === undefined ? reply : {
        ...reply,
        headers: [...reply.headers.filter(([n]) => n !== name), [name, x.requestId]],
      };
  }
  return policy;
}
