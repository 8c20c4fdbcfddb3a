/**
 * TLS end to end through a real lb process: termination (HTTP/2 by ALPN and
 * HTTP/1.1, X-Forwarded-Proto), certificate reload on SIGHUP, `https://`
 * backends verified against `--backend-ca` on both transports, SNI, and what
 * plain-text HTTP/2 (h2c prior knowledge) gets. Certificates are made per
 * run with openssl; the tests skip, saying so, when it or curl is missing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startLb, status, waitFor } from "./_lb.ts";

const OPENSSL = "/usr/bin/openssl";
const CURL = "/usr/bin/curl";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const tools = (await exists(OPENSSL)) && (await exists(CURL));
if (!tools) console.log(`tls_test: skipped (needs ${OPENSSL} and ${CURL})`);

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (cmd === OPENSSL && out.code !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { code: out.code, stdout };
}

/** A CA and server certificates signed by it, as files in `dir`. */
interface Pki {
  readonly dir: string;
  /** Path of a PEM file in `dir`. */
  path(name: string): string;
}

async function makeCa(dir: string, name: string): Promise<void> {
  await run(OPENSSL, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${dir}/${name}.key`,
    "-out",
    `${dir}/${name}.pem`,
  ]);
}

/** A leaf certificate for `san` (e.g. `DNS:localhost,IP:127.0.0.1`) signed by `ca`. */
async function makeCert(dir: string, name: string, ca: string, san: string): Promise<void> {
  await run(OPENSSL, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${dir}/${name}.key`,
    "-out",
    `${dir}/${name}.csr`,
  ]);
  // Names are checked against the SAN only (RFC 6125); the CN is ignored.
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  await run(OPENSSL, [
    "x509",
    "-req",
    "-days",
    "2",
    "-in",
    `${dir}/${name}.csr`,
    "-CA",
    `${dir}/${ca}.pem`,
    "-CAkey",
    `${dir}/${ca}.key`,
    "-CAcreateserial",
    "-extfile",
    `${dir}/${name}.ext`,
    "-out",
    `${dir}/${name}.pem`,
  ]);
}

let pkiPromise: Promise<Pki> | undefined;
/** One set of certificates for the whole file, made on first use. */
function pki(): Promise<Pki> {
  return pkiPromise ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "lb-tls-" });
    await Promise.all([makeCa(dir, "ca"), makeCa(dir, "ca2")]);
    await Promise.all([
      makeCert(dir, "server", "ca", "DNS:localhost,IP:127.0.0.1"),
      makeCert(dir, "server2", "ca2", "DNS:localhost,IP:127.0.0.1"),
      // Valid only for the name, so reaching it as `localhost` must verify by name.
      makeCert(dir, "named", "ca", "DNS:localhost"),
    ]);
    return { dir, path: (name) => `${dir}/${name}` };
  })();
}

globalThis.addEventListener("unload", () => {
  pkiPromise?.then((p) => Deno.removeSync(p.dir, { recursive: true })).catch(() => {});
});

/** A backend on loopback that records each request's headers. */
function backend(tls?: { cert: string; key: string }) {
  const seen: Headers[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...tls },
    (req) => {
      seen.push(req.headers);
      return new Response(`hello from ${tls ? "https" : "http"}\n`);
    },
  );
  return {
    seen,
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function pem(p: Pki, name: string) {
  return {
    cert: await Deno.readTextFile(p.path(`${name}.pem`)),
    key: await Deno.readTextFile(p.path(`${name}.key`)),
  };
}

/** `curl -sS -i ...`: the status line and the body. */
async function curl(args: string[]): Promise<{ statusLine: string; body: string }> {
  const { code, stdout } = await run(CURL, ["-sS", "-i", "--max-time", "10", ...args]);
  assert.equal(code, 0, `curl ${args.join(" ")} exited ${code}`);
  const [head, ...body] = stdout.split("\r\n\r\n");
  return { statusLine: head.split("\r\n")[0].trim(), body: body.join("\r\n\r\n") };
}

async function allUp(lb: Awaited<ReturnType<typeof startLb>>): Promise<void> {
  await waitFor(async () => (await status(lb)).backends.every((b) => b.state === "up"));
}

Deno.test({
  name: "TLS termination: HTTP/2 by ALPN and HTTP/1.1, X-Forwarded-Proto https",
  ignore: !tools,
  async fn() {
    const p = await pki();
    await using be = backend();
    await using lb = await startLb([`http://127.0.0.1:${be.port}`], [
      "--tls-cert",
      p.path("server.pem"),
      "--tls-key",
      p.path("server.key"),
    ]);
    await allUp(lb);
    const url = `https://localhost:${lb.port}/`;
    const h2 = await curl(["--http2", "--cacert", p.path("ca.pem"), url]);
    assert.equal(h2.statusLine, "HTTP/2 200");
    assert.equal(h2.body, "hello from http\n");
    const seen = be.seen.at(-1)!;
    assert.equal(seen.get("x-forwarded-proto"), "https");
    assert.match(seen.get("forwarded") ?? "", /proto=https/);
    // HTTP/2 has no Host header, only :authority; the backend still gets Host.
    assert.equal(seen.get("host"), `localhost:${lb.port}`);
    const h1 = await curl(["--http1.1", "--cacert", p.path("ca.pem"), url]);
    assert.equal(h1.statusLine, "HTTP/1.1 200 OK");
    assert.equal(be.seen.at(-1)!.get("x-forwarded-proto"), "https");
  },
});

Deno.test({
  name: "TLS termination: changed certificate files are picked up on SIGHUP by rebinding",
  ignore: !tools,
  async fn() {
    const p = await pki();
    const dir = await Deno.makeTempDir({ dir: p.dir });
    await Deno.copyFile(p.path("server.pem"), `${dir}/cert.pem`);
    await Deno.copyFile(p.path("server.key"), `${dir}/key.pem`);
    await using be = backend();
    await using lb = await startLb([`http://127.0.0.1:${be.port}`], [
      "--tls-cert",
      `${dir}/cert.pem`,
      "--tls-key",
      `${dir}/key.pem`,
    ]);
    await allUp(lb);
    const url = `https://localhost:${lb.port}/`;
    assert.equal((await curl(["--cacert", p.path("ca.pem"), url])).statusLine, "HTTP/2 200");
    // Renewed in place, by another CA so the switch is visible.
    await Deno.copyFile(p.path("server2.pem"), `${dir}/cert.pem`);
    await Deno.copyFile(p.path("server2.key"), `${dir}/key.pem`);
    lb.proc.signal("SIGHUP");
    await lb.proc.waitForLine(/listener certificate reloaded/);
    // Several connections: none may land on a listener with the old certificate.
    for (let i = 0; i < 5; i++) {
      assert.equal((await curl(["--cacert", p.path("ca2.pem"), url])).statusLine, "HTTP/2 200");
    }
    assert.equal(await lb.stop(), 0);
  },
});

for (const transport of ["h1", "node-http"]) {
  Deno.test({
    name: `HTTPS backend (${transport}): verified against --backend-ca; without it, 502`,
    ignore: !tools,
    async fn() {
      const p = await pki();
      await using be = backend(await pem(p, "server"));
      const origin = `https://127.0.0.1:${be.port}`;
      {
        await using lb = await startLb([origin], [
          "--transport",
          transport,
          "--backend-ca",
          p.path("ca.pem"),
        ]);
        await allUp(lb);
        const res = await fetch(`${lb.url}/`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "hello from https\n");
        assert.equal(be.seen.at(-1)!.get("x-forwarded-proto"), "http");
      }
      await using lb = await startLb([origin], ["--transport", transport, "--retries", "0"]);
      await allUp(lb); // TCP health checks pass; only the handshake fails
      const res = await fetch(`${lb.url}/`);
      assert.equal(res.status, 502);
      await res.body?.cancel();
      // Still serving (a connect failure may also take the backend out: 503).
      const again = await fetch(`${lb.url}/`);
      assert.ok([502, 503].includes(again.status), `got ${again.status}`);
      await again.body?.cancel();
      assert.equal(await lb.stop(), 0, "the lb exits cleanly, it did not crash");
    },
  });

  Deno.test({
    name: `HTTPS backend (${transport}): reached by name, verified and SNI'd as that name`,
    ignore: !tools,
    async fn() {
      const p = await pki();
      // The certificate names only `localhost`: it verifies only if the lb
      // checks (and, with the same name, sends as SNI) the URL's host name.
      await using be = backend(await pem(p, "named"));
      const flags = ["--transport", transport, "--backend-ca", p.path("ca.pem"), "--retries", "0"];
      {
        await using lb = await startLb([`https://localhost:${be.port}`], flags);
        await allUp(lb);
        const res = await fetch(`${lb.url}/`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "hello from https\n");
      }
      // The same server reached by address: the name check fails.
      await using lb = await startLb([`https://127.0.0.1:${be.port}`], flags);
      await allUp(lb);
      const res = await fetch(`${lb.url}/`);
      assert.equal(res.status, 502);
      await res.body?.cancel();
    },
  });
}

Deno.test({
  name: "h2c with prior knowledge: Deno.serve speaks it, but without Host the lb answers 400",
  ignore: !tools,
  async fn() {
    await using be = backend();
    await using lb = await startLb([`http://127.0.0.1:${be.port}`], ["--front", "deno-serve"]);
    await allUp(lb);
    // Plain-text HTTP/2 is accepted by Deno.serve, which gives the request no
    // Host header; that can't be told from an HTTP/1.1 request lacking Host
    // (RFC 9112 §3.2: 400), so the plain listener refuses it. See README.
    const h2c = await curl(["--http2-prior-knowledge", `${lb.url}/`]);
    assert.equal(h2c.statusLine, "HTTP/2 400");
    assert.equal(be.seen.length, 0);
    // An Upgrade: h2c request is not upgraded: it is served as HTTP/1.1.
    const upgrade = await curl(["--http2", `${lb.url}/`]);
    assert.equal(upgrade.statusLine, "HTTP/1.1 200 OK");
  },
});

Deno.test({
  name:
    "h2c on the h1 front: the prior-knowledge preface gets 505, Upgrade: h2c is served as HTTP/1.1",
  ignore: !tools,
  async fn() {
    await using be = backend();
    await using lb = await startLb([`http://127.0.0.1:${be.port}`]);
    await allUp(lb);
    // RFC 9113 §3.4: the preface reads as a request line with version HTTP/2.0.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.port });
    await conn.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    conn.close();
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 505 /);
    assert.equal(be.seen.length, 0);
    const upgrade = await curl(["--http2", `${lb.url}/`]);
    assert.equal(upgrade.statusLine, "HTTP/1.1 200 OK");
  },
});
