/**
 * Forward auth through a real lb process, with a real backend and a real
 * auth service on loopback (Deno.serve in this test): what the auth
 * service is told, a 2xx with copied fields (a client's forged copy
 * replaced), denials relayed as sent, and a slow, dead or too talkative
 * auth service answering the configured status without the backend ever
 * seeing the request.
 */

import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { rawRequest } from "../_http.ts";
import { startLb } from "../_lb.ts";
import { inProcess } from "../routes/_routes.ts";
import { closedPort, configDir, metric, recorder, type Seen } from "./_auth.ts";

/** The auth service: its answer depends on the URI it is asked about. */
function authService() {
  return recorder(async (_req, seen: Seen) => {
    const uri = seen.headers["x-forwarded-uri"] ?? "";
    if (uri.startsWith("/app/ok")) {
      return new Response("fine", {
        headers: { "x-auth-user": "alice", "x-auth-roles": "admin", "x-other": "not copied" },
      });
    }
    if (uri.startsWith("/app/login")) {
      return new Response("go and log in\n", {
        status: 302,
        headers: {
          location: "https://login.test/?rd=%2Fapp%2Flogin",
          "set-cookie": "state=abc; HttpOnly",
        },
      });
    }
    if (uri.startsWith("/app/denied")) {
      return new Response("no token\n", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="app"', "x-reason": "expired" },
      });
    }
    if (uri.startsWith("/app/slow")) {
      await delay(1000);
      return new Response("too late");
    }
    if (uri.startsWith("/app/huge")) return new Response("x".repeat(100_000), { status: 403 });
    return new Response("unknown", { status: 500 });
  });
}

Deno.test("forward-auth: a 2xx lets the request through with copy-headers replacing the client's; the auth service gets X-Forwarded-* and the fields, never the body, on kept-alive connections", async () => {
  await using backend = recorder();
  await using auth = authService();
  await using cfg = await configDir({
    policies: {
      "forward-auth": {
        url: `${auth.origin}/verify?from=lb`,
        "copy-headers": ["X-Auth-User", "x-auth-roles"],
        "user-header": "x-auth-user",
      },
    },
  });
  await using lb = await startLb([backend.origin], ["--config", cfg.path]);
  // Raw, as fetch would not send this Host.
  const res = await rawRequest(lb.port, [
    "GET /app/ok?q=1 HTTP/1.1",
    "Host: site.test",
    "Cookie: session=s1",
    "X-Auth-User: mallory", // forged: must not reach the backend
    "X-Auth-Roles: root",
  ]);
  assert.equal(res.status, 200);
  assert.equal(new TextDecoder().decode(res.body), "backend\n");
  const asked = auth.seen[0];
  assert.equal(asked.method, "GET");
  assert.equal(asked.path, "/verify?from=lb");
  assert.equal(asked.headers.host, `127.0.0.1:${auth.port}`);
  assert.equal(asked.headers["x-forwarded-method"], "GET");
  assert.equal(asked.headers["x-forwarded-uri"], "/app/ok?q=1");
  assert.equal(asked.headers["x-forwarded-host"], "site.test");
  assert.equal(asked.headers["x-forwarded-proto"], "http");
  assert.equal(asked.headers["x-forwarded-for"], "127.0.0.1");
  assert.equal(asked.headers.cookie, "session=s1");
  const up = backend.seen[0];
  assert.equal(up.headers["x-auth-user"], "alice");
  assert.equal(up.headers["x-auth-roles"], "admin");
  assert.equal(up.headers["x-other"], undefined);
  // A POST: the auth service hears of it by X-Forwarded-Method; its body goes only upstream.
  const post = await fetch(`${lb.url}/app/ok/form`, { method: "POST", body: "a=1&b=2" });
  assert.equal(post.status, 200);
  await post.body?.cancel();
  const askedPost = auth.seen[1];
  assert.equal(askedPost.method, "GET");
  assert.equal(askedPost.headers["x-forwarded-method"], "POST");
  assert.equal(askedPost.headers["content-length"], undefined);
  assert.equal(askedPost.body, "");
  assert.equal(backend.seen[1].body, "a=1&b=2");
  for (let i = 0; i < 3; i++) await (await fetch(`${lb.url}/app/ok/${i}`)).body?.cancel();
  // Five checks, one after another: one connection to the auth service.
  assert.equal(new Set(auth.seen.map((s) => s.port)).size, 1);
  const allowed = 'lb_forward_auth_requests_total{route="default",result="allowed"}';
  assert.equal(await metric(lb.adminUrl, allowed), 5);
});

Deno.test("forward-auth: any other answer goes to the client as the auth service sent it (status, fields, body) and the backend never sees the request", async () => {
  await using backend = recorder();
  await using auth = authService();
  await using cfg = await configDir({
    policies: { "forward-auth": { url: `${auth.origin}/verify` } },
  });
  await using lb = await startLb([backend.origin], ["--config", cfg.path]);
  const login = await fetch(`${lb.url}/app/login`, { redirect: "manual" });
  assert.equal(login.status, 302);
  assert.equal(login.headers.get("location"), "https://login.test/?rd=%2Fapp%2Flogin");
  assert.equal(login.headers.get("set-cookie"), "state=abc; HttpOnly");
  assert.equal(await login.text(), "go and log in\n");
  const denied = await fetch(`${lb.url}/app/denied`);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="app"');
  assert.equal(denied.headers.get("x-reason"), "expired");
  assert.equal(denied.headers.get("content-length"), "9");
  assert.equal(await denied.text(), "no token\n");
  // The auth service's 5xx is its answer too, relayed as sent.
  const broken = await fetch(`${lb.url}/app/other`);
  assert.equal(broken.status, 500);
  assert.equal(await broken.text(), "unknown");
  assert.equal(backend.seen.length, 0);
  const m = (result: string) =>
    metric(lb.adminUrl, `lb_forward_auth_requests_total{route="default",result="${result}"}`);
  assert.equal(await m("denied"), 3);
  const refused = 'lb_policy_denied_total{route="default",policy="forward-auth"}';
  assert.equal(await metric(lb.adminUrl, refused), 3);
});

Deno.test("forward-auth: a timeout, an auth service that is down, or a denial over max-body answer on-error; the request never passes", async () => {
  await using backend = recorder();
  await using auth = authService();
  await using cfg = await configDir({
    policies: { "forward-auth": { url: `${auth.origin}/verify`, timeout: "200ms" } },
    routes: [
      {
        name: "down",
        match: { "path-prefix": "/down" },
        pool: "default",
        policies: {
          "forward-auth": { url: `http://127.0.0.1:${closedPort()}/verify`, "on-error": 401 },
        },
      },
      { name: "app", match: {}, pool: "default" },
    ],
  });
  await using lb = await startLb([backend.origin], ["--config", cfg.path]);
  const started = performance.now();
  const slow = await fetch(`${lb.url}/app/slow`);
  const took = performance.now() - started;
  assert.equal(slow.status, 503);
  assert.equal(await slow.text(), "authentication unavailable\n");
  assert.ok(took >= 190 && took < 900, `answered after ${took} ms`);
  const down = await fetch(`${lb.url}/down/x`);
  assert.equal(down.status, 401);
  await down.body?.cancel();
  const huge = await fetch(`${lb.url}/app/huge`);
  assert.equal(huge.status, 503);
  await huge.body?.cancel();
  // The slow answer arrives after the lb gave up; it still lets nothing through.
  await delay(1000);
  assert.equal(backend.seen.length, 0);
  const m = (route: string, result: string) =>
    metric(lb.adminUrl, `lb_forward_auth_requests_total{route="${route}",result="${result}"}`);
  assert.equal(await m("app", "timeout"), 1);
  assert.equal(await m("app", "error"), 1);
  assert.equal(await m("down", "error"), 1);
  assert.ok(lb.proc.lines().some((l) => /forward auth for route down failed \(error\)/.test(l)));
});

Deno.test("forward-auth: user-header names the user in the access record", async () => {
  await using backend = recorder();
  await using auth = authService();
  await using lb = inProcess({
    backends: [backend.origin],
    policies: { "forward-auth": { url: `${auth.origin}/verify`, "user-header": "X-Auth-User" } },
  });
  assert.equal((await lb.send("http://site.test/app/ok")).status, 200);
  assert.equal((await lb.send("http://site.test/app/denied")).status, 401);
  await new Promise((r) => setTimeout(r, 50)); // records are written once replies are delivered
  assert.deepEqual(lb.records.map((r) => [r.path, r.user]), [
    ["/app/ok", "alice"],
    ["/app/denied", undefined],
  ]);
});
