import assert from "node:assert/strict";
import fc from "fast-check";
import { compileHosts, normalizeHost } from "../../lib/routing/host.ts";

const NORMALISED: [string, string][] = [
  ["example.com", "example.com"],
  ["Example.COM", "example.com"],
  ["a.example.com:8080", "a.example.com"],
  ["A.Example.Com.:443", "a.example.com"],
  ["example.com.", "example.com"],
  ["example.com..", "example.com."],
  ["[::1]:80", "[::1]"],
  ["[::1]", "[::1]"],
  ["[FE80::1]:8080", "[fe80::1]"],
  ["::1", "::1"],
  ["10.0.0.1:80", "10.0.0.1"],
  ["localhost:", "localhost"],
  [".", "."],
  ["", ""],
];

for (const [authority, host] of NORMALISED) {
  Deno.test(`normalizeHost(${JSON.stringify(authority)}) is ${JSON.stringify(host)}`, () => {
    assert.equal(normalizeHost(authority), host);
  });
}

Deno.test("normalizeHost returns the same string when nothing changes", () => {
  const host = ["api", "example", "com"].join(".");
  assert.equal(normalizeHost(host), host);
});

/** Pattern list, authority (raw, as a request sends it), expected. */
const MATCHES: [string[], string, boolean][] = [
  [["example.com"], "example.com", true],
  [["example.com"], "EXAMPLE.com", true],
  [["example.com"], "example.com:8080", true],
  [["example.com"], "example.com.", true],
  [["example.com"], "example.com.:80", true],
  [["example.com"], "a.example.com", false],
  [["example.com"], "example.co", false],
  [["Example.COM."], "example.com", true],
  [["*.example.com"], "a.example.com", true],
  [["*.example.com"], "a.b.example.com", true],
  [["*.example.com"], "A.Example.Com:443", true],
  [["*.example.com"], "a.example.com.", true],
  [["*.example.com"], "example.com", false],
  [["*.example.com"], "example.com:80", false],
  [["*.example.com"], ".example.com", false],
  [["*.example.com"], "..example.com", false],
  [["*.example.com"], "evil-example.com", false],
  [["*.example.com"], "aexample.com", false],
  [["*.example.com"], "a.example.com.evil.net", false],
  [["*.Example.COM."], "a.example.com", true],
  [["*.example.com", "example.com"], "example.com", true],
  [["*.example.com", "example.com"], "x.example.com", true],
  [["a.test", "*.example.com"], "a.test", true],
  [["a.test", "*.example.com"], "b.test", false],
  [["[::1]"], "[::1]:8080", true],
  [["10.0.0.1"], "10.0.0.1:80", true],
];

for (const [patterns, authority, expected] of MATCHES) {
  Deno.test(`hosts ${JSON.stringify(patterns)} ${expected ? "match" : "miss"} ${authority}`, () => {
    assert.equal(compileHosts(patterns)(normalizeHost(authority)), expected);
  });
}

const HOSTISH = fc.string({ unit: fc.constantFrom(..."aZz09.-:[]") });
const NAME = fc.string({ unit: fc.constantFrom(..."aBz09.-"), minLength: 1 });

Deno.test("normalizeHost ignores case and leaves no upper-case letter", () => {
  fc.assert(fc.property(HOSTISH, (s) => {
    const host = normalizeHost(s);
    assert.equal(normalizeHost(s.toUpperCase()), host);
    assert.equal(host, host.toLowerCase());
  }));
});

Deno.test("normalizeHost ignores a port", () => {
  fc.assert(fc.property(NAME, fc.integer({ min: 0, max: 65535 }), (name, port) => {
    assert.equal(normalizeHost(`${name}:${port}`), normalizeHost(name));
    assert.equal(normalizeHost(`[${name}]:${port}`), normalizeHost(`[${name}]`));
  }));
});

Deno.test("a wildcard matches exactly the names with a label before its suffix", () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
  fc.assert(
    fc.property(
      fc.array(label, { maxLength: 3 }),
      fc.array(label, { maxLength: 3 }),
      (pre, base) => {
        const suffix = ["example", ...base, "com"].join(".");
        const test = compileHosts([`*.${suffix}`]);
        const host = [...pre, suffix].join(".");
        assert.equal(test(host), pre.length > 0);
      },
    ),
  );
});
