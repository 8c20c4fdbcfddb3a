import assert from "node:assert/strict";
import fc from "fast-check";
import type { RouteConfig, RouteMatch } from "../../lib/config/types.ts";
import { compileRoutes, type RouteRequest } from "../../lib/routing/router.ts";

function route(name: string, match: RouteMatch, extra: Partial<RouteConfig> = {}): RouteConfig {
  return { name, match, target: { kind: "pool", pool: name }, ...extra };
}

function req(path: string, more: Partial<RouteRequest> = {}): RouteRequest {
  return { method: "GET", host: "example.com", path, headers: [], ...more };
}

/** How many `URLSearchParams` `run` creates (the router parses queries with it). */
function queryParses(run: () => void): number {
  const Original = globalThis.URLSearchParams;
  let count = 0;
  globalThis.URLSearchParams = class extends Original {
    constructor(init?: ConstructorParameters<typeof Original>[0]) {
      super(init);
      count++;
    }
  };
  try {
    run();
  } finally {
    globalThis.URLSearchParams = Original;
  }
  return count;
}

/** A table, then requests and the route each should reach (undefined: none). */
interface Case {
  readonly name: string;
  readonly routes: RouteConfig[];
  readonly requests: [RouteRequest, string | undefined][];
}

const CASES: Case[] = [
  {
    name: "first match wins: an earlier narrower route beats a later wider one",
    routes: [route("api", { pathPrefixes: ["/api"] }), route("all", {})],
    requests: [[req("/api/x"), "api"], [req("/apix"), "all"], [req("/"), "all"]],
  },
  {
    name: "first match wins: a wider route first shadows a narrower one",
    routes: [route("all", {}), route("api", { pathPrefixes: ["/api"] })],
    requests: [[req("/api/x"), "all"]],
  },
  {
    name: "no route matches",
    routes: [route("api", { pathPrefixes: ["/api"] })],
    requests: [[req("/other"), undefined]],
  },
  {
    name: "hosts: exact and wildcard, port, case, trailing dot",
    routes: [
      route("apex", { hosts: ["example.com"] }),
      route("sub", { hosts: ["*.example.com"] }),
    ],
    requests: [
      [req("/", { host: "example.com" }), "apex"],
      [req("/", { host: "EXAMPLE.com:8080" }), "apex"],
      [req("/", { host: "example.com." }), "apex"],
      [req("/", { host: "a.example.com" }), "sub"],
      [req("/", { host: "A.B.Example.Com.:443" }), "sub"],
      [req("/", { host: "evil-example.com" }), undefined],
      [req("/", { host: "example.com.evil.net" }), undefined],
      [req("/", { host: null }), undefined],
    ],
  },
  {
    name: "prefixes: segment boundaries, trailing slash, query",
    routes: [
      route("slash", { pathPrefixes: ["/static/"] }),
      route("api", { pathPrefixes: ["/api", "/v1"] }),
      route("root", { pathPrefixes: ["/"] }),
    ],
    requests: [
      [req("/static/a.css"), "slash"],
      [req("/static"), "root"],
      [req("/api"), "api"],
      [req("/api/"), "api"],
      [req("/api?x=1"), "api"],
      [req("/v1/users"), "api"],
      [req("/apix"), "root"],
      [req("/x?p=/api"), "root"],
    ],
  },
  {
    name: "exact paths ignore the query",
    routes: [route("health", { paths: ["/health", "/ready"] })],
    requests: [
      [req("/health"), "health"],
      [req("/ready?full=1"), "health"],
      [req("/health/"), undefined],
      [req("/healthz"), undefined],
    ],
  },
  {
    name: "methods compare exactly",
    routes: [route("write", { methods: ["POST", "PUT"] }), route("rest", {})],
    requests: [
      [req("/", { method: "POST" }), "write"],
      [req("/", { method: "PUT" }), "write"],
      [req("/", { method: "post" }), "rest"],
      [req("/", { method: "GET" }), "rest"],
    ],
  },
  {
    name: "headers: any field, any accepted value, OWS trimmed, every name",
    routes: [
      route("canary", { headers: { "x-canary": ["1", "yes"], "x-team": ["a"] } }),
      route("rest", {}),
    ],
    requests: [
      [req("/", { headers: [["x-canary", "1"], ["x-team", "a"]] }), "canary"],
      [req("/", { headers: [["x-canary", " yes\t"], ["x-team", "a"]] }), "canary"],
      [req("/", { headers: [["x-canary", "0"], ["x-canary", "1"], ["x-team", "a"]] }), "canary"],
      [req("/", { headers: [["x-canary", "1, yes"], ["x-team", "a"]] }), "rest"],
      [req("/", { headers: [["x-canary", "YES"], ["x-team", "a"]] }), "rest"],
      [req("/", { headers: [["x-canary", "1"]] }), "rest"],
      [req("/", { headers: [["x-team", "a"]] }), "rest"],
      [req("/", { headers: [] }), "rest"],
    ],
  },
  {
    name: "query: decoded, repeated, absent",
    routes: [
      route("beta", { query: { "ver sion": ["2 beta"], flag: ["on"] } }),
      route("rest", {}),
    ],
    requests: [
      [req("/?ver%20sion=2+beta&flag=on"), "beta"],
      [req("/x?flag=off&ver+sion=2%20beta&flag=on"), "beta"],
      [req("/?ver%20sion=2+beta"), "rest"],
      [req("/?ver%20sion=2&flag=on"), "rest"],
      [req("/?flag=on"), "rest"],
      [req("/"), "rest"],
      [req("/?"), "rest"],
    ],
  },
  {
    name: "combinations: every test must pass",
    routes: [
      route("admin", {
        hosts: ["*.example.com"],
        methods: ["POST"],
        pathPrefixes: ["/admin"],
        headers: { "x-role": ["admin"] },
        query: { debug: ["1"] },
      }),
      route("both-path-tests", { paths: ["/a/b"], pathPrefixes: ["/a"] }),
    ],
    requests: [
      [
        req("/admin/x?debug=1", {
          method: "POST",
          host: "ops.example.com",
          headers: [["x-role", "admin"]],
        }),
        "admin",
      ],
      [
        req("/admin/x?debug=1", {
          method: "GET",
          host: "ops.example.com",
          headers: [["x-role", "admin"]],
        }),
        undefined,
      ],
      [
        req("/admin/x?debug=1", {
          method: "POST",
          host: "example.com",
          headers: [["x-role", "admin"]],
        }),
        undefined,
      ],
      [
        req("/admin/x", {
          method: "POST",
          host: "ops.example.com",
          headers: [["x-role", "admin"]],
        }),
        undefined,
      ],
      [req("/a/b?x"), "both-path-tests"],
      [req("/a/c"), undefined],
    ],
  },
];

for (const c of CASES) {
  Deno.test(`router: ${c.name}`, () => {
    const router = compileRoutes(c.routes);
    for (const [request, expected] of c.requests) {
      assert.equal(router.match(request)?.name, expected, JSON.stringify(request));
    }
  });
}

Deno.test("a compiled route exposes name, index, config and mirror", () => {
  const configs = [route("a", { paths: ["/a"] }), route("b", {}, { mirror: "shadow" })];
  const router = compileRoutes(configs);
  const b = router.match(req("/b"))!;
  assert.equal(b.name, "b");
  assert.equal(b.index, 1);
  assert.equal(b.config, configs[1]);
  assert.equal(b.mirror, "shadow");
  assert.equal(router.routes[0].mirror, undefined);
  assert.deepEqual(router.routes.map((r) => r.index), [0, 1]);
});

Deno.test("pool(): the pool, or the split's smooth rotation", () => {
  const router = compileRoutes([
    { name: "one", match: { paths: ["/one"] }, target: { kind: "pool", pool: "p" } },
    {
      name: "split",
      match: {},
      target: { kind: "split", weights: [["stable", 3], ["canary", 1]] },
    },
  ]);
  assert.equal(router.match(req("/one"))!.pool(), "p");
  const split = router.match(req("/x"))!;
  const picked = Array.from({ length: 8 }, () => split.pool());
  assert.deepEqual(picked, [
    "stable",
    "stable",
    "canary",
    "stable",
    "stable",
    "stable",
    "canary",
    "stable",
  ]);
});

Deno.test("a split without a positive weight fails at compile time", () => {
  assert.throws(
    () => compileRoutes([{ name: "s", match: {}, target: { kind: "split", weights: [["a", 0]] } }]),
    RangeError,
  );
});

Deno.test("rewrite(): identity (same string) without stripPrefix, else the prefix replaced", () => {
  const router = compileRoutes([
    route("plain", { paths: ["/plain"] }),
    route("strip", { pathPrefixes: ["/api"] }, { stripPrefix: "/api" }),
    route("replace", { pathPrefixes: ["/old"] }, { stripPrefix: "/old", replacePrefix: "/new/" }),
  ]);
  const path = ["", "plain"].join("/");
  assert.equal(router.routes[0].rewrite(path), path);
  assert.equal(router.routes[1].rewrite("/api/x?q=1"), "/x?q=1");
  assert.equal(router.routes[1].rewrite("/api"), "/");
  assert.equal(router.routes[2].rewrite("/old/x"), "/new/x");
  assert.equal(router.routes[2].rewrite("/other"), "/other");
});

Deno.test("a match-all first route is returned without reading the request", () => {
  const router = compileRoutes([route("all", {}), route("never", { paths: ["/"] })]);
  const untouchable = new Proxy({} as RouteRequest, {
    get(_, key) {
      throw new Error(`read ${String(key)}`);
    },
  });
  assert.equal(router.match(untouchable)?.name, "all");
});

Deno.test("empty lists of values are no test", () => {
  const router = compileRoutes([
    route("empty", { hosts: [], methods: [], paths: [], pathPrefixes: [], headers: {}, query: {} }),
  ]);
  assert.equal(router.match(req("/anything", { host: null, method: "BREW" }))?.name, "empty");
});

Deno.test("the host is normalised and the query parsed at most once per request", () => {
  let hostReads = 0;
  const request = req("/?a=1", { method: "POST", host: "x.example.com" });
  const counted = {
    ...request,
    get host() {
      hostReads++;
      return request.host;
    },
  };
  const router = compileRoutes([
    route("h1", { hosts: ["a.test"] }),
    route("h2", { hosts: ["b.test"], query: { a: ["2"] } }),
    route("h3", { hosts: ["*.example.com"], query: { a: ["2"] } }),
    route("h4", { hosts: ["*.example.com"], query: { a: ["1"] } }),
  ]);
  const parses = queryParses(() => assert.equal(router.match(counted)?.name, "h4"));
  assert.equal(hostReads, 1);
  assert.equal(parses, 1);
});

Deno.test("the query is not parsed when no route reached tests it", () => {
  const router = compileRoutes([
    route("api", { pathPrefixes: ["/api"] }),
    route("q", { query: { a: ["1"] } }),
  ]);
  const none = compileRoutes([route("p", { paths: ["/x"] })]);
  const parses = queryParses(() => {
    assert.equal(router.match(req("/api?a=1"))?.name, "api");
    assert.equal(none.match(req("/y?a=1")), undefined);
  });
  assert.equal(parses, 0);
});

// --- properties --------------------------------------------------------------

const TOKEN = fc.stringMatching(/^[a-zA-Z0-9._~%+-]{0,6}$/);
const ANY_TEXT = fc.string({ maxLength: 12 });
const REQUEST: fc.Arbitrary<RouteRequest> = fc.record({
  method: fc.oneof(fc.constantFrom("GET", "POST", "get"), ANY_TEXT),
  host: fc.option(
    fc.oneof(fc.constantFrom("a.example.com:80", "[::1]:8080", "EXAMPLE.com."), ANY_TEXT),
    {
      nil: null,
    },
  ),
  path: fc.oneof(
    fc.array(TOKEN, { maxLength: 4 }).map((s) => `/${s.join("/")}`),
    fc.tuple(fc.array(TOKEN, { maxLength: 3 }), fc.array(fc.tuple(TOKEN, TOKEN), { maxLength: 3 }))
      .map(([segs, q]) => `/${segs.join("/")}?${q.map(([k, v]) => `${k}=${v}`).join("&")}`),
    ANY_TEXT,
  ),
  headers: fc.array(fc.tuple(fc.constantFrom("x-a", "x-b", "host"), ANY_TEXT), { maxLength: 4 }),
});

const MATCH: fc.Arbitrary<RouteMatch> = fc.record(
  {
    hosts: fc.array(fc.constantFrom("example.com", "*.example.com", "[::1]", "a.test"), {
      maxLength: 2,
    }),
    pathPrefixes: fc.array(fc.constantFrom("/", "/a", "/a/", "/b%20"), { maxLength: 2 }),
    paths: fc.array(fc.constantFrom("/", "/a", "/a/b"), { maxLength: 2 }),
    methods: fc.array(fc.constantFrom("GET", "POST"), { maxLength: 2 }),
    headers: fc.dictionary(fc.constantFrom("x-a", "x-b"), fc.array(TOKEN, { maxLength: 2 })),
    query: fc.dictionary(TOKEN, fc.array(TOKEN, { maxLength: 2 })),
  },
  { requiredKeys: [] },
);

Deno.test("the router never throws on random requests, and an empty-match route catches the rest", () => {
  fc.assert(
    fc.property(
      fc.array(MATCH, { maxLength: 4 }),
      fc.array(REQUEST, { maxLength: 8 }),
      (matches, requests) => {
        const routes = matches.map((m, i) => route(`r${i}`, m));
        const withCatchAll = compileRoutes([...routes, route("all", {})]);
        const without = compileRoutes(routes);
        for (const r of requests) {
          const hit = withCatchAll.match(r);
          assert.ok(hit !== undefined);
          // The catch-all is reached exactly when no earlier route matches.
          assert.equal(hit.name === "all", without.match(r) === undefined);
          assert.equal(compileRoutes([route("only", {})]).match(r)?.name, "only");
        }
      },
    ),
  );
});

Deno.test("the first matching route is the first that matches alone", () => {
  fc.assert(fc.property(fc.array(MATCH, { minLength: 1, maxLength: 4 }), REQUEST, (matches, r) => {
    const alone = matches.map((m) => compileRoutes([route("x", m)]).match(r) !== undefined);
    const first = alone.indexOf(true);
    const hit = compileRoutes(matches.map((m, i) => route(`r${i}`, m))).match(r);
    assert.equal(hit?.index, first === -1 ? undefined : first);
  }));
});
