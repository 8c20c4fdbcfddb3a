import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compilePaths,
  compilePrefixes,
  hasPathPrefix,
  isPath,
  pathEnd,
  rewritePath,
} from "../../lib/routing/path.ts";

// --- prefixes ----------------------------------------------------------------

/** Prefix, target, expected. */
const PREFIXES: [string, string, boolean][] = [
  ["/api", "/api", true],
  ["/api", "/api/", true],
  ["/api", "/api/x", true],
  ["/api", "/api/x/y?z=1", true],
  ["/api", "/api?x", true],
  ["/api", "/api?", true],
  ["/api", "/apix", false],
  ["/api", "/ap", false],
  ["/api", "/API", false],
  ["/api", "/v1/api", false],
  ["/api", "/%61pi", false],
  ["/api", "/x/../api", false],
  ["/api/", "/api/", true],
  ["/api/", "/api/x", true],
  ["/api/", "/api", false],
  ["/api/", "/api?x=/", false],
  ["/api/", "/apix/", false],
  ["/a/b", "/a/b/c", true],
  ["/a/b", "/a/bc", false],
  ["/", "/", true],
  ["/", "/anything?at=all", true],
  ["/", "*", true],
  // The query is never part of the path, even when a prefix would run into it.
  ["/api?x", "/api?x", false],
];

for (const [prefix, target, expected] of PREFIXES) {
  Deno.test(`prefix ${prefix} ${expected ? "matches" : "misses"} ${target}`, () => {
    assert.equal(hasPathPrefix(target, prefix), expected);
    assert.equal(compilePrefixes([prefix])(target), expected);
  });
}

Deno.test("prefixes: any of several", () => {
  const test = compilePrefixes(["/a", "/b/"]);
  assert.equal(test("/a/1"), true);
  assert.equal(test("/b/1"), true);
  assert.equal(test("/b"), false);
  assert.equal(test("/c"), false);
  assert.equal(compilePrefixes(["/x", "/"])("/anything"), true);
});

// --- exact paths -------------------------------------------------------------

/** Path, target, expected. */
const EXACT: [string, string, boolean][] = [
  ["/health", "/health", true],
  ["/health", "/health?verbose=1", true],
  ["/health", "/health?", true],
  ["/health", "/health/", false],
  ["/health", "/healthz", false],
  ["/health", "/Health", false],
  ["/health", "/heal", false],
  ["/", "/", true],
  ["/", "/?q", true],
  ["/", "/x", false],
];

for (const [path, target, expected] of EXACT) {
  Deno.test(`path ${path} ${expected ? "matches" : "misses"} ${target}`, () => {
    assert.equal(isPath(target, path), expected);
    assert.equal(compilePaths([path])(target), expected);
  });
}

Deno.test("paths: any of several", () => {
  const test = compilePaths(["/a", "/b"]);
  assert.equal(test("/a"), true);
  assert.equal(test("/b?x"), true);
  assert.equal(test("/c"), false);
});

Deno.test("pathEnd is where the query starts", () => {
  assert.equal(pathEnd("/a?b?c"), 2);
  assert.equal(pathEnd("/a/b"), 4);
});

// --- rewrite -----------------------------------------------------------------

/** Target, strip, replace, expected. */
const REWRITES: [string, string, string | undefined, string][] = [
  ["/api/x", "/api", undefined, "/x"],
  ["/api", "/api", undefined, "/"],
  ["/api/", "/api", undefined, "/"],
  ["/api?q=1", "/api", undefined, "/?q=1"],
  ["/api/x?q=1", "/api", undefined, "/x?q=1"],
  ["/api/x/y/", "/api", undefined, "/x/y/"],
  ["/api/x", "/api", "/v2", "/v2/x"],
  ["/api", "/api", "/v2", "/v2"],
  ["/api/", "/api", "/v2", "/v2/"],
  ["/api?q=1", "/api", "/v2", "/v2?q=1"],
  ["/api/x", "/api", "/v2/", "/v2/x"],
  ["/api", "/api", "/v2/", "/v2/"],
  ["/api/x", "/api", "v2", "/v2/x"],
  ["/api/x", "/api", "", "/x"],
  ["/api", "/api", "", "/"],
  ["/api/x", "/api/", undefined, "/x"],
  ["/api/x", "/api/", "/v2", "/v2/x"],
  ["/api/x", "/api/", "/v2/", "/v2/x"],
  ["/api/", "/api/", "/v2", "/v2"],
  ["/x", "/", "/v2", "/v2/x"],
  ["/", "/", "/v2", "/v2"],
  ["/x?q", "/", undefined, "/x?q"],
  // Not under the prefix: unchanged.
  ["/apix", "/api", undefined, "/apix"],
  ["/other", "/api", "/v2", "/other"],
  ["/api", "/api/", undefined, "/api"],
  ["*", "/", "/v2", "*"],
  ["/x?/api", "/api", undefined, "/x?/api"],
];

for (const [target, strip, replace, expected] of REWRITES) {
  Deno.test(`rewrite ${target} strip ${strip} replace ${replace ?? "(default)"} → ${expected}`, () => {
    assert.equal(rewritePath(target, strip, replace), expected);
  });
}

Deno.test("rewrite returns the same string when the prefix does not match", () => {
  const target = ["", "other", "x"].join("/");
  assert.equal(rewritePath(target, "/api"), target);
});

const SEGMENT = fc.stringMatching(/^[a-z0-9._-]{1,5}$/);
const PATH = fc.array(SEGMENT, { maxLength: 4 }).chain((segs) =>
  fc.boolean().map((slash) => `/${segs.join("/")}${slash && segs.length ? "/" : ""}`)
);
const QUERY = fc.option(fc.stringMatching(/^[a-z0-9=&/?]{0,6}$/), { nil: undefined });
const TARGET = fc.tuple(PATH, QUERY).map(([p, q]) => (q === undefined ? p : `${p}?${q}`));

Deno.test("rewrite always yields a path starting with / and no // at the join", () => {
  fc.assert(
    fc.property(TARGET, PATH, fc.option(PATH, { nil: undefined }), (target, strip, replace) => {
      const out = rewritePath(target, strip, replace);
      assert.ok(out.startsWith("/"), out);
      // Inputs have no `//`, so one in the output would be the join's.
      assert.ok(
        !out.slice(0, pathEnd(out)).includes("//"),
        `${target} ${strip} ${replace} → ${out}`,
      );
      if (!hasPathPrefix(target, strip)) assert.equal(out, target);
      // The query is kept as it was.
      assert.equal(out.slice(pathEnd(out)), target.slice(pathEnd(target)));
    }),
  );
});

/** A prefix without trailing slash, and a target under it: `[prefix, target]`. */
const UNDER = fc
  .tuple(fc.array(SEGMENT, { minLength: 1, maxLength: 3 }), PATH, QUERY, fc.boolean())
  .map(([segs, rest, q, bare]) => {
    const prefix = `/${segs.join("/")}`;
    const path = bare ? prefix : prefix + rest;
    return [prefix, q === undefined ? path : `${path}?${q}`] as const;
  });

Deno.test("rewrite strips a matching prefix and puts the replacement in its place", () => {
  fc.assert(fc.property(UNDER, PATH, ([prefix, target], replace) => {
    assert.ok(hasPathPrefix(target, prefix));
    // Replacing a prefix with itself gives the target back.
    assert.equal(rewritePath(target, prefix, prefix), target);
    const out = rewritePath(target, prefix, replace);
    assert.ok(hasPathPrefix(out, replace), `${target} ${prefix} ${replace} → ${out}`);
    const rest = target.slice(prefix.length);
    const outRest = rest === "" || rest.startsWith("?") ? rest : rest.slice(1);
    assert.ok(out.endsWith(outRest), `${target} ${prefix} ${replace} → ${out}`);
  }));
});
