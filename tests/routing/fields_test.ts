import assert from "node:assert/strict";
import { compileHeaders, compileQuery, parseQuery, trimOws } from "../../lib/routing/fields.ts";

const TRIMS: [string, string][] = [
  ["a", "a"],
  [" a ", "a"],
  ["\ta b\t ", "a b"],
  ["   ", ""],
  ["", ""],
  // Only SP and HTAB are OWS (RFC 9110 §5.6.3); a no-break space is part of the value.
  ["\u00a0a\u00a0", "\u00a0a\u00a0"],
  ["\na\r", "\na\r"],
];

for (const [value, trimmed] of TRIMS) {
  Deno.test(`trimOws(${JSON.stringify(value)}) is ${JSON.stringify(trimmed)}`, () => {
    assert.equal(trimOws(value), trimmed);
  });
}

Deno.test("header tests: names are lower-cased and accepted values trimmed at compile time", () => {
  const test = compileHeaders({ "X-Env": [" prod "] })!;
  assert.equal(test([["x-env", "prod"]]), true);
  assert.equal(test([["x-env", "dev"]]), false);
});

Deno.test("no test, or only empty lists, compile to undefined", () => {
  assert.equal(compileHeaders({}), undefined);
  assert.equal(compileHeaders({ "x-a": [] }), undefined);
  assert.equal(compileQuery({}), undefined);
  assert.equal(compileQuery({ a: [] }), undefined);
});

Deno.test("query tests: a parameter without a value is the empty string", () => {
  const test = compileQuery({ flag: [""] })!;
  assert.equal(test(parseQuery("/?flag")), true);
  assert.equal(test(parseQuery("/?flag=")), true);
  assert.equal(test(parseQuery("/?other")), false);
});

Deno.test("parseQuery: only what follows the first ?", () => {
  assert.deepEqual([...parseQuery("/a?b=1?c&d=%2B+")], [["b", "1?c"], ["d", "+ "]]);
  assert.deepEqual([...parseQuery("/a")], []);
});
