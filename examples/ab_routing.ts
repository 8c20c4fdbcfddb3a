/**
 * Header-based A/B routing: a request carrying `X-Variant: b` goes to pool
 * `b`, everyone else to pool `a`, by a route in the config; a hook moves
 * beta testers (a `beta=1` cookie) to `b` too, by choosing the route.
 * Run with `deno run -A examples/ab_routing.ts`.
 *
 * @module
 */

import { header, parseConfig, startLoadBalancer } from "../mod.ts";
import { backend, LOOPBACK } from "./_backends.ts";

await using a = backend("a");
await using b = backend("b");
const config = parseConfig({
  ...LOOPBACK,
  pools: { a: { backends: [a.url] }, b: { backends: [b.url] } },
  routes: [
    { name: "variant-b", match: { headers: { "x-variant": "b" } }, pool: "b" },
    { name: "everyone", match: {}, pool: "a" },
  ],
});
const lb = startLoadBalancer(config, {
  hooks: {
    onRequest: (req) =>
      header(req, "cookie")?.includes("beta=1") ? { route: "variant-b" } : undefined,
  },
});
const url = `http://127.0.0.1:${lb.addr!.port}/page`;
const cases: [string, Record<string, string>][] = [
  ["plain", {}],
  ["X-Variant: b", { "x-variant": "b" }],
  ["cookie beta=1", { cookie: "beta=1" }],
];
for (const [what, headers] of cases) {
  const res = await fetch(url, { headers });
  console.log(`${what} → ${(await res.text()).trim()}`);
}
await lb.shutdown();
