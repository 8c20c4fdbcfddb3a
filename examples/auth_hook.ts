/**
 * An auth check in a hook: requests without the right bearer token are
 * answered 401 by the lb itself and never reach a backend. Run with
 * `deno run -A examples/auth_hook.ts`; it starts a backend and the lb on
 * loopback, sends three requests and stops.
 *
 * @module
 */

import { header, parseConfig, startLoadBalancer } from "../mod.ts";
import { backend, LOOPBACK } from "./_backends.ts";

const TOKEN = "Bearer let-me-in";

await using app = backend("app");
const lb = startLoadBalancer(parseConfig({ ...LOOPBACK, backends: [app.url] }), {
  hooks: {
    onRequest: (req) =>
      header(req, "authorization") === TOKEN ? undefined : new Response("sign in first\n", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="example"' },
      }),
  },
});
const url = `http://127.0.0.1:${lb.addr!.port}/hello`;
for (const auth of [undefined, "Bearer wrong", TOKEN]) {
  const res = await fetch(url, { headers: auth ? { authorization: auth } : {} });
  console.log(`${auth ?? "(no token)"} → ${res.status} ${(await res.text()).trim()}`);
}
await lb.shutdown();
