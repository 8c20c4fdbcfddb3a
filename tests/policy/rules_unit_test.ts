/**
 * The pure parts of the IP, header and retry-on-answer policies and of the
 * client address they key on: fixed vectors.
 */

import assert from "node:assert/strict";
import { fakeExchange } from "./_exchange.ts";
import { parseCidr } from "../../lib/core/cidr.ts";
import { effectiveClientIp } from "../../lib/core/client_ip.ts";
import { ipAllowed } from "../../lib/policy/ip.ts";
import { compileTemplate } from "../../lib/policy/templates.ts";
import { createHeaderRules } from "../../lib/policy/headers.ts";
import { mayResend } from "../../lib/proxy/retry.ts";
import type { PolicyExchange } from "../../lib/policy/types.ts";
import type { HeaderPairs } from "../../lib/core/transport.ts";

const cidrs = (...texts: string[]) => texts.map((t) => parseCidr(t)!);

Deno.test("effectiveClientIp: the peer unless it is trusted; then X-Forwarded-For from the right past trusted hops", () => {
  const trusted = cidrs("10.0.0.0/8", "::1");
  const xff = (v: string): HeaderPairs => [["x-forwarded-for", v]];
  // An untrusted peer is the client, whatever it claims.
  assert.equal(effectiveClientIp("203.0.113.9", xff("1.2.3.4"), trusted), "203.0.113.9");
  assert.equal(effectiveClientIp("10.0.0.1", xff("198.51.100.7"), []), "10.0.0.1");
  // A trusted peer vouches for the hop before it; hops left of an untrusted one may be forged.
  assert.equal(
    effectiveClientIp("10.0.0.1", xff("6.6.6.6, 198.51.100.7"), trusted),
    "198.51.100.7",
  );
  assert.equal(
    effectiveClientIp("10.0.0.1", xff("6.6.6.6, 198.51.100.7, 10.2.3.4"), trusted),
    "198.51.100.7",
  );
  // Several fields are one list, in order.
  assert.equal(
    effectiveClientIp("10.0.0.1", [["x-forwarded-for", "198.51.100.7"], [
      "x-forwarded-for",
      "10.9.9.9",
    ]], trusted),
    "198.51.100.7",
  );
  // Only trusted hops: the leftmost is as far as the chain goes.
  assert.equal(effectiveClientIp("10.0.0.1", xff("10.1.1.1, 10.2.2.2"), trusted), "10.1.1.1");
  // Garbage stops the walk at the last address believed.
  assert.equal(effectiveClientIp("10.0.0.1", xff("198.51.100.7, junk"), trusted), "10.0.0.1");
  // Ports and brackets are not part of the address.
  assert.equal(effectiveClientIp("::1", xff("[2001:db8::7]:443"), trusted), "2001:db8::7");
  assert.equal(effectiveClientIp("::1", xff("192.0.2.1:80"), trusted), "192.0.2.1");
  assert.equal(effectiveClientIp("::1", xff("2001:db8::8"), trusted), "2001:db8::8");
  // No field: the peer.
  assert.equal(effectiveClientIp("10.0.0.1", [], trusted), "10.0.0.1");
});

Deno.test("ipAllowed: deny wins, allow (when given) is the only way in, v4 and v6", () => {
  const rules = { allow: cidrs("192.0.2.0/24", "2001:db8::/32"), deny: cidrs("192.0.2.66") };
  assert.equal(ipAllowed(rules, "192.0.2.1"), true);
  assert.equal(ipAllowed(rules, "192.0.2.66"), false);
  assert.equal(ipAllowed(rules, "198.51.100.1"), false);
  assert.equal(ipAllowed(rules, "2001:db8::1"), true);
  assert.equal(ipAllowed(rules, "2001:db9::1"), false);
  assert.equal(ipAllowed({ deny: cidrs("10.0.0.0/8") }, "10.1.2.3"), false);
  assert.equal(ipAllowed({ deny: cidrs("10.0.0.0/8") }, "11.1.2.3"), true);
  // IPv4-mapped IPv6 is the IPv4 address.
  assert.equal(ipAllowed({ deny: cidrs("10.0.0.0/8") }, "::ffff:10.1.2.3"), false);
  // What isn't an address can't be allowed.
  assert.equal(ipAllowed({ allow: cidrs("0.0.0.0/0"), deny: [] }, "nonsense"), false);
});

function exchange(over: Partial<PolicyExchange> = {}): PolicyExchange {
  return { ...fakeExchange({ route: "api", pool: "blue", clientIp: "192.0.2.9" }), ...over };
}

Deno.test("templates: literals cost nothing, variables read the exchange", () => {
  const x = exchange({ requestId: "r-1", backend: "http://b:1" });
  assert.equal(compileTemplate("plain")(x), "plain");
  assert.equal(compileTemplate("")(x), "");
  assert.equal(
    compileTemplate("${client_ip}|${request_id}|${route}|${pool}|${backend}")(x),
    "192.0.2.9|r-1|api|blue|http://b:1",
  );
  assert.equal(compileTemplate("id=${request_id}")(exchange()), "id=");
});

Deno.test("header rules: remove, then set (replacing), then add; on both sides", () => {
  const rules = createHeaderRules({
    request: {
      set: [["x-route", "${route}"]],
      add: [["x-tag", "a"], ["x-tag", "b"]],
      remove: ["cookie"],
    },
    response: { set: [["server", "lb"]], add: [], remove: ["x-powered-by"] },
  });
  const up: HeaderPairs = [["host", "h"], ["cookie", "c=1"], ["x-route", "forged"], [
    "accept",
    "*/*",
  ]];
  const x = exchange({ upstreamHeaders: up });
  assert.equal(rules.request!(x), undefined);
  assert.deepEqual(up, [["host", "h"], ["accept", "*/*"], ["x-route", "api"], ["x-tag", "a"], [
    "x-tag",
    "b",
  ]]);
  const reply = rules.response!({
    status: 200,
    headers: [["server", "nginx"], ["x-powered-by", "php"], ["content-type", "text/plain"]],
    body: null,
  }, x);
  assert.deepEqual(reply.headers, [["content-type", "text/plain"], ["server", "lb"]]);
});

Deno.test("mayResend: idempotent methods or an Idempotency-Key, and a body that can be sent again", () => {
  assert.equal(mayResend({ method: "GET", hasBody: false }), true);
  assert.equal(mayResend({ method: "HEAD", hasBody: false }), true);
  assert.equal(mayResend({ method: "POST", hasBody: true, replayable: true }), false);
  assert.equal(
    mayResend({ method: "POST", hasBody: true, replayable: true, idempotencyKey: true }),
    true,
  );
  assert.equal(
    mayResend({ method: "POST", hasBody: true, replayable: false, idempotencyKey: true }),
    false,
  );
});
