/**
 * `--workers 2` with `--tls-cert`/`--tls-key`: each worker serves HTTPS on
 * the shared port, so requests over many fresh TLS connections are served
 * by both (`/status`); HTTP/2 by ALPN works through both (a client that
 * speaks only HTTP/2 gets its answers, and so does `curl --http2` when
 * curl is there); SIGTERM drains both and exits 0. Certificates are made
 * per run with openssl; the tests skip, saying so, when it is missing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { namedBackend, startWorkersLb } from "./_workers.ts";
import {
  type Certs,
  concurrently,
  makeCerts,
  OPENSSL,
  send,
  servedSince,
  workerRequests,
} from "./_more.ts";

const CURL = "/usr/bin/curl";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const haveOpenssl = await exists(OPENSSL);
const haveCurl = await exists(CURL);
if (!haveOpenssl) console.log(`workers/tls_test: skipped (needs ${OPENSSL} to make certificates)`);

let certsPromise: Promise<Certs> | undefined;
/** One CA and server certificate for the whole file, made on first use. */
function certs(): Promise<Certs> {
  return certsPromise ??= makeCerts();
}

globalThis.addEventListener("unload", () => {
  certsPromise?.then((c) => Deno.removeSync(c.dir, { recursive: true })).catch(() => {});
});

/** `curl --http2` through the lb: its status line and body. */
async function curlHttp2(port: number, ca: string): Promise<{ statusLine: string; body: string }> {
  const out = await new Deno.Command(CURL, {
    args: [
      "-sS",
      "-i",
      "--max-time",
      "10",
      "--http2",
      "--cacert",
      ca,
      `https://localhost:${port}/`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `curl exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  const [head, ...body] = text.split("\r\n\r\n");
  return { statusLine: head.split("\r\n")[0].trim(), body: body.join("\r\n\r\n") };
}

Deno.test({
  name:
    "--workers 2 with TLS: fresh HTTPS connections and HTTP/2 are served by both workers; SIGTERM exits 0",
  ignore: !haveOpenssl,
  async fn() {
    const c = await certs();
    const ca = await Deno.readTextFile(c.ca);
    await using a = namedBackend("a");
    await using b = namedBackend("b");
    await using lb = await startWorkersLb([a.origin, b.origin], {
      extra: ["--tls-cert", c.cert, "--tls-key", c.key, "--retries", "0"],
    });
    assert.match(lb.proc.match[0], /lb listening on https:\/\//);

    // HTTP/1.1 over TLS, one connection per request.
    let before = await workerRequests(lb);
    const sent = 120;
    const replies = await concurrently(sent, () => send(lb.port, { caCerts: [ca] }));
    const bad = replies.filter((r) => r.status !== 200 || !["a", "b"].includes(r.body));
    assert.deepEqual(bad.map((r) => `${r.status} ${r.body.slice(0, 120)}`), []);
    assert.equal(a.count() + b.count(), sent);
    let per = await servedSince(lb, before, sent);
    assert.equal(per.reduce((x, y) => x + y, 0), sent, `per worker ${per}`);
    assert.ok(per.every((n) => n > 0), `a worker served no HTTPS request: ${per}`);

    // HTTP/2 only: a handshake that did not agree on h2 by ALPN would fail.
    // One client per request, so each is a new connection.
    before = await workerRequests(lb);
    const h2 = 40;
    const bodies = await concurrently(h2, async () => {
      const client = Deno.createHttpClient({ caCerts: [ca], http1: false, http2: true });
      try {
        const res = await fetch(`https://localhost:${lb.port}/`, { client });
        return `${res.status} ${await res.text()}`;
      } finally {
        client.close();
      }
    });
    assert.deepEqual(bodies.filter((s) => s !== "200 a" && s !== "200 b"), []);
    per = await servedSince(lb, before, h2);
    assert.ok(per.every((n) => n > 0), `a worker served no HTTP/2 request: ${per}`);

    if (haveCurl) {
      const viaCurl = await curlHttp2(lb.port, c.ca);
      assert.equal(viaCurl.statusLine, "HTTP/2 200");
      assert.ok(["a", "b"].includes(viaCurl.body), viaCurl.body);
    } else {
      console.log(`workers/tls_test: curl check skipped (no ${CURL})`);
    }

    assert.equal(await lb.stop(), 0, "SIGTERM: lb did not exit 0");
  },
});
