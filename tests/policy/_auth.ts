/**
 * Shared pieces of the auth policies' integration tests: a backend that
 * records what reached it, a config file in a temporary directory, and a
 * metric read from the admin listener.
 *
 * @module
 */

/** What a backend or auth service saw of one request. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The client's source port: the same for requests on one kept-alive connection. */
  readonly port: number;
}

/** A recording Deno.serve on loopback; `handle` answers (after the request is recorded). */
export function recorder(
  handle: (req: Request, seen: Seen) => Response | Promise<Response> = () =>
    new Response("backend\n"),
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req, info) => {
      const url = new URL(req.url);
      const entry: Seen = {
        method: req.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
        port: info.remoteAddr.port,
      };
      // The lb's health probes of `/` are not what the tests count.
      if (url.pathname !== "/") seen.push(entry);
      return handle(req, entry);
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A temporary directory with `lb.json` (and any other files) in it, removed on dispose. */
export async function configDir(
  config: unknown,
  files: Record<string, string> = {},
): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "lb-auth-" });
  const path = `${dir}/lb.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return { dir, path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** The value of the sample `line` (`name{labels}`) at `adminUrl`'s /metrics, 0 when absent. */
export async function metric(adminUrl: string, line: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

/** A loopback port nothing listens on (bound, then closed). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
