/**
 * Routes in the config file: what each match key becomes, and every
 * problem, each with its message and its place in the file.
 */

import assert from "node:assert/strict";
import type { RouteConfig } from "../../lib/config/types.ts";
import { yamlConfig, yamlProblems } from "./_config.ts";

const POOLS = "pools:\n  web: { backends: a:1 }\n  api: { backends: b:1 }\n";
const AT = "--config: lb.yaml: ";

/** The routes of a file with pools web and api and the given routes (YAML flow text). */
function routes(...items: string[]): readonly RouteConfig[] {
  return yamlConfig(`${POOLS}routes:\n${items.map((i) => `  - ${i}\n`).join("")}`).routes;
}

/** The problems of a file with pools web and api and the given routes. */
function problems(...items: string[]): readonly string[] {
  return yamlProblems(`${POOLS}routes:\n${items.map((i) => `  - ${i}\n`).join("")}`);
}

Deno.test("routes: names default to route-N in file order; given names are kept", () => {
  const r = routes(
    "{ match: { path: /a }, pool: web }",
    "{ name: b, match: { path: /b }, pool: web }",
    "{ match: {}, pool: api }",
  );
  assert.deepEqual(r.map((x) => x.name), ["route-1", "b", "route-3"]);
});

Deno.test("routes: a match key takes a string or a list; absent keys stay absent", () => {
  const [one, list] = routes(
    "{ match: { host: a.example, method: get }, pool: web }",
    "{ match: { host: [a.example, B.example], query: { q: x } }, pool: web }",
  );
  assert.deepEqual(one.match, { hosts: ["a.example"], methods: ["GET"] });
  assert.deepEqual(list.match, { hosts: ["a.example", "b.example"], query: { q: ["x"] } });
  assert.equal("mirror" in one, false);
  assert.equal("stripPrefix" in one, false);
});

Deno.test("routes: a split of one pool is allowed; a mirror-only pool needs no route", () => {
  const [r] = routes("{ match: {}, split: { web: 1 }, mirror: api }");
  assert.deepEqual(r.target, { kind: "split", weights: [["web", 1]] });
  assert.equal(r.mirror, "api");
});

/** One bad route per row, and the exact problems it gives. */
const BAD: { name: string; routes: string[]; problems: string[] }[] = [
  {
    name: "an unknown pool",
    routes: ["{ match: {}, pool: nope }"],
    problems: [`${AT}routes[0].pool: no pool named "nope" (expected one of web, api)`],
  },
  {
    name: "an unknown pool in a split",
    routes: [
      "{ match: {}, pool: web }",
      "{ match: {}, pool: web }",
      "{ match: {}, split: { web: 9, canary: 1 } }",
    ],
    problems: [`${AT}routes[2].split.canary: no pool named "canary" (expected one of web, api)`],
  },
  {
    name: "an unknown mirror",
    routes: ["{ match: {}, pool: web, mirror: shadow }"],
    problems: [`${AT}routes[0].mirror: no pool named "shadow" (expected one of web, api)`],
  },
  {
    name: "a mirror that is the target",
    routes: ["{ match: {}, pool: web, mirror: web }"],
    problems: [`${AT}routes[0].mirror: "web" already serves this route; mirror to another pool`],
  },
  {
    name: "a mirror that is in the split",
    routes: ["{ match: {}, split: { web: 1, api: 1 }, mirror: api }"],
    problems: [`${AT}routes[0].mirror: "api" already serves this route; mirror to another pool`],
  },
  {
    name: "both pool and split",
    routes: ["{ match: {}, pool: web, split: { api: 1 } }"],
    problems: [`${AT}routes[0]: needs exactly one of "pool" or "split", not several`],
  },
  {
    name: "neither pool nor split",
    routes: ["{ match: {} }"],
    problems: [`${AT}routes[0]: needs exactly one of "pool" or "split"`],
  },
  {
    name: "no match",
    routes: ["{ pool: web }"],
    problems: [`${AT}routes[0]: missing "match"`],
  },
  {
    name: "an empty split",
    routes: ["{ match: {}, split: {} }"],
    problems: [`${AT}routes[0].split: needs at least 1 entry(s)`],
  },
  {
    name: "a zero or fractional weight",
    routes: ["{ match: {}, split: { web: 0, api: 1.5 } }"],
    problems: [
      `${AT}routes[0].split.web: must be at least 1`,
      `${AT}routes[0].split.api: expected integer, got number`,
    ],
  },
  {
    name: "an unknown key in a route and in a match",
    routes: ["{ match: { hosts: a }, pool: web, weight: 2 }"],
    problems: [
      `${AT}routes[0].match.hosts: unknown setting`,
      `${AT}routes[0].weight: unknown setting`,
    ],
  },
  {
    name: "an empty list",
    routes: ["{ match: { host: [] }, pool: web }"],
    problems: [`${AT}routes[0].match.host: needs at least 1 item(s)`],
  },
  {
    name: "hosts with a port, a bare wildcard, a space",
    routes: ['{ match: { host: ["a.example:80", "*", "a b", "*.ok.example"] }, pool: web }'],
    problems: ["a.example:80", "*", "a b"].map((h) =>
      `${AT}routes[0].match.host: "${h}" is not a host name or *.domain ` +
      "(expected e.g. api.example.com or *.example.com, without a port)"
    ),
  },
  {
    name: "paths without a slash, with a query, a fragment or a space",
    routes: [
      '{ match: { path-prefix: [api, "/a?b"], path: ["/a#b", "/a b"] }, pool: web }',
    ],
    problems: [
      `${AT}routes[0].match.path-prefix: "api" is not a path (expected / and segments, without spaces, ? or #)`,
      `${AT}routes[0].match.path-prefix: "/a?b" is not a path (expected / and segments, without spaces, ? or #)`,
      `${AT}routes[0].match.path: "/a#b" is not a path (expected / and segments, without spaces, ? or #)`,
      `${AT}routes[0].match.path: "/a b" is not a path (expected / and segments, without spaces, ? or #)`,
    ],
  },
  {
    name: "a method that is not a token",
    routes: ['{ match: { method: "GE T" }, pool: web }'],
    problems: [
      `${AT}routes[0].match.method: "GE T" is not a method (expected a token such as GET)`,
    ],
  },
  {
    name: "a header name that is not a token, and one given twice",
    routes: ['{ match: { headers: { "a b": x, X-A: "1", x-a: "2" } }, pool: web }'],
    problems: [
      `${AT}routes[0].match.headers.a b: "a b" is not a field name (expected a token such as x-canary)`,
      `${AT}routes[0].match.headers.x-a: "x-a" is given twice (field names ignore case)`,
    ],
  },
  {
    name: "a query parameter without a name",
    routes: ['{ match: { query: { "": x } }, pool: web }'],
    problems: [`${AT}routes[0].match.query: a query parameter needs a name`],
  },
  {
    name: "a header value that is not a string",
    routes: ["{ match: { headers: { x-a: 1 } }, pool: web }"],
    problems: [`${AT}routes[0].match.headers.x-a: expected string, got number`],
  },
  {
    name: "bad prefixes to strip and replace",
    routes: ["{ match: {}, pool: web, strip-prefix: api, replace-prefix: /a?b }"],
    problems: [
      `${AT}routes[0].strip-prefix: "api" is not a path (expected / and segments, without spaces, ? or #)`,
      `${AT}routes[0].replace-prefix: "/a?b" is not a path (expected / and segments, without spaces, ? or #)`,
    ],
  },
  {
    name: "replace-prefix without strip-prefix",
    routes: ["{ match: {}, pool: web, replace-prefix: /v2 }"],
    problems: [`${AT}routes[0].replace-prefix: needs strip-prefix (the prefix it replaces)`],
  },
  {
    name: "a name that is not metric-label safe",
    routes: ["{ name: API, match: {}, pool: web }"],
    problems: [
      `${AT}routes[0].name: "API" does not match ^[a-z0-9][a-z0-9_-]{0,62}$ (expected lower-case ` +
      "letters, digits, _ and -, starting with a letter or digit, 1-63 long)",
    ],
  },
  {
    name: "a name given twice",
    routes: ["{ name: a, match: {}, pool: web }", "{ name: a, match: {}, pool: api }"],
    problems: [`${AT}routes[1].name: "a" is also the name of routes[0]`],
  },
  {
    name: "a default name that is taken",
    routes: ["{ name: route-2, match: {}, pool: web }", "{ match: {}, pool: api }"],
    problems: [`${AT}routes[1]: its default name "route-2" is also the name of routes[0]`],
  },
];

for (const bad of BAD) {
  Deno.test(`route problems: ${bad.name}`, () => {
    assert.deepEqual(problems(...bad.routes), bad.problems);
  });
}

Deno.test("route problems: several pools and no routes", () => {
  assert.deepEqual(yamlProblems(POOLS), [`${AT}routes: needed when there are several pools`]);
});

Deno.test("route problems: an empty routes list", () => {
  assert.deepEqual(yamlProblems(`${POOLS}routes: []\n`), [`${AT}routes: needs at least 1 item(s)`]);
});

Deno.test("route problems: every problem of every route is reported at once", () => {
  const list = problems(
    "{ match: { host: 'a:1' }, pool: nope }",
    "{ match: { path: x }, split: { web: 1, gone: 1 }, mirror: web }",
  );
  assert.deepEqual(list.map((p) => p.slice(AT.length, p.indexOf(":", AT.length))), [
    "routes[0].pool",
    "routes[0].match.host",
    "routes[1].split.gone",
    "routes[1].match.path",
    "routes[1].mirror",
  ]);
});

Deno.test("route problems: come with the option problems of the same file", () => {
  const list = yamlProblems(
    "pools:\n  web: { backends: a:1, retries: x }\nroutes: [{ match: {}, pool: api }]\n",
  );
  assert.deepEqual(list, [
    `${AT}pools.web.retries: "x" is not a whole number from 0 to 10`,
    `${AT}routes[0].pool: no pool named "api" (expected one of web)`,
  ]);
});
