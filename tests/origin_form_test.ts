import assert from "node:assert/strict";
import { originForm } from "../lib/front/deno_serve.ts";

const CASES: [string, string][] = [
  ["http://a/b?c", "/b?c"],
  ["http://a", "/"],
  ["http://a/", "/"],
  ["http://a:8080/b/c/", "/b/c/"],
  ["http://elsewhere.example/x?y=1", "/x?y=1"],
  ["https://elsewhere.example:443/x", "/x"],
  ["http://[::1]:80/p", "/p"],
  ["http://[::1]", "/"],
  ["http://a/b?next=http://c/d", "/b?next=http://c/d"],
  ["http://a//double", "//double"],
  ["http://a/%2F..%2Fetc?q=%20", "/%2F..%2Fetc?q=%20"],
];

for (const [url, target] of CASES) {
  Deno.test(`originForm(${url}) is ${target}`, () => {
    assert.equal(originForm(url), target);
  });
}

Deno.test("originForm of a Request's url never carries the authority", () => {
  // Deno's Request normalises the URL the way req.url arrives in a handler.
  for (const url of ["http://a?x=1", "http://evil.example:81/p#frag", "http://a/p?"]) {
    const target = originForm(new Request(url).url);
    assert.ok(target.startsWith("/"), target);
    assert.ok(!target.includes("evil.example"), target);
  }
  assert.equal(originForm(new Request("http://a?x=1").url), "/?x=1");
});
