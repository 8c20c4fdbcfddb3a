/**
 * The NGINX and HAProxy configs the benchmark generates are accepted by
 * the installed servers (`nginx -t`, `haproxy -c`); skipped, saying so,
 * where a server is not installed.
 */

import assert from "node:assert/strict";
import { haproxyConfig, nginxBackendConfig, nginxProxyConfig } from "../scripts/bench/configs.ts";
import { findExecutable } from "../scripts/bench/processes.ts";

const nginx = findExecutable("nginx");
const haproxy = findExecutable("haproxy");
const openssl = findExecutable("openssl");

async function check(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${argv.join(" ")}:\n${text}`);
}

async function nginxTest(dir: string, conf: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  await check([nginx!, "-t", "-q", "-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`]);
}

Deno.test({
  name: "nginx -t accepts the backend and the proxy configs, plain, two workers and HTTPS with h2",
  ignore: !nginx || !openssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-configs-" });
    try {
      const tls = { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` };
      await check([
        openssl!,
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        ...["-nodes", "-subj", "/CN=localhost", "-days", "2"],
        ...["-keyout", tls.keyFile, "-out", tls.certFile],
      ]);
      const upstreams = ["127.0.0.1:1", "127.0.0.1:2"];
      await nginxTest(
        dir,
        nginxBackendConfig({ prefix: dir, root: dir, ports: [3, 4], sinkPort: 5, drainPort: 6 }),
      );
      const plain = nginxProxyConfig(dir, { port: 7, upstreams });
      assert.match(plain, /listen 127\.0\.0\.1:7 backlog=4096;/);
      await nginxTest(dir, plain);
      // Two workers, one reuseport listener each (the nginx-w2 target).
      await nginxTest(dir, nginxProxyConfig(dir, { port: 9, upstreams, workers: 2 }));
      const h2 = nginxProxyConfig(dir, { port: 8, upstreams, tls });
      assert.match(h2, /listen 127\.0\.0\.1:8 ssl http2 backlog=4096;/);
      assert.match(h2, new RegExp(`ssl_certificate ${tls.certFile};`));
      await nginxTest(dir, h2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "haproxy -c accepts the proxy config",
  ignore: !haproxy,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-configs-" });
    try {
      await Deno.writeTextFile(
        `${dir}/haproxy.cfg`,
        haproxyConfig({ port: 9, upstreams: ["127.0.0.1:1"] }),
      );
      await check([haproxy!, "-c", "-q", "-f", `${dir}/haproxy.cfg`]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (!nginx || !openssl) {
  console.log("bench_configs_test: nginx or openssl not installed: nginx -t skipped");
}
if (!haproxy) console.log("bench_configs_test: haproxy not installed: haproxy -c skipped");
