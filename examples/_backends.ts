/**
 * Tiny backends for the examples: each answers with its name, on a free
 * loopback port, until closed.
 *
 * @module
 */

/** A running example backend. */
export interface ExampleBackend extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
}

/** Starts a backend that answers `name path` to every request. */
export function backend(name: string): ExampleBackend {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new Response(`${name} ${new URL(req.url).pathname}\n`),
  );
  return {
    name,
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Loopback listeners on free ports, quick health checks: what every example shares. */
export const LOOPBACK = {
  host: "127.0.0.1",
  port: 0,
  "admin-host": "127.0.0.1",
  "admin-port": 0,
  "health-interval": "200ms",
  "shutdown-timeout": "2s",
} as const;
