/**
 * The combined format against NGINX itself: the same raw requests (quotes
 * and backslashes in the target, quotes, tabs and UTF-8 in the user agent,
 * an empty and a missing referer, HTTP/1.0, HEAD) go to a real `nginx`
 * (`/usr/sbin/nginx` or on PATH, run on loopback under a temporary prefix)
 * with `access_log ... combined`, and to a real lb with
 * `--access-log-format combined`; the lines must be the same once the
 * timestamps are set aside. Skipped, with a message, where nginx is absent.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { httpServer, rawRequest } from "../_http.ts";
import { startLb, waitFor } from "../_lb.ts";

/** The nginx binary, or undefined. */
function findNginx(): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/local/sbin", ...(Deno.env.get("PATH") ?? "").split(":")]) {
    const path = join(dir, "nginx");
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const NGINX = findNginx();

/** A loopback port free a moment ago (nginx can't report the port 0 gave it). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** nginx answering `hello` to everything, logging in the combined format to `log`. */
async function startNginx(dir: string, log: string) {
  const port = freePort();
  const conf = join(dir, "nginx.conf");
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  await Deno.writeTextFile(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")};
events { worker_connections 64; }
http {
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}
  access_log ${log} combined;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello"; }
  }
}
`,
  );
  const child = new Deno.Command(NGINX!, {
    args: ["-p", dir, "-c", conf, "-e", join(dir, "error.log")],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  await waitFor(
    async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    5000,
    "nginx to listen",
  );
  return {
    port,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await stderr;
    },
  };
}

/** Header lines of each request (the request line first); `Host` and `Connection: close` are added. */
const REQUESTS: readonly (readonly string[])[] = [
  ["GET /plain HTTP/1.1", "User-Agent: curl/8.0", "Referer: http://ref.test/page"],
  ['GET /a"b\\c?x=1&y="2" HTTP/1.1', 'User-Agent: evil" "quote\tand tab café', "Referer: "],
  ["GET /no-agent HTTP/1.1"],
  ["GET /old HTTP/1.0", "User-Agent: old\\slash"],
  ["HEAD /head HTTP/1.1", "User-Agent: h"],
  ["GET /%22encoded%22 HTTP/1.1", 'Referer: "><script>'],
];

/** A combined line with its timestamp set aside, and that timestamp's shape checked. */
function normalize(line: string): string {
  const m = /^(\S+ - \S+ )\[(\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]( .*)$/.exec(line);
  assert.ok(m, `not a combined line: ${line}`);
  return m[1] + "[TIME]" + m[3];
}

async function lines(path: string, n: number): Promise<string[]> {
  let out: string[] = [];
  await waitFor(
    async () => {
      out = (await Deno.readTextFile(path).catch(() => "")).split("\n").filter((l) => l !== "");
      return out.length >= n;
    },
    5000,
    `${n} lines in ${path}`,
  );
  return out;
}

Deno.test({
  name: "combined: the same lines NGINX writes for the same requests",
  ignore: NGINX === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lb-nginx-" });
    try {
      await using backend = httpServer(() => new Response("hello"));
      await using nginx = await startNginx(dir, join(dir, "nginx.log"));
      await using lb = await startLb([backend.origin], [
        "--access-log-format",
        "combined",
        "--access-log-file",
        join(dir, "lb.log"),
      ]);
      for (const [line, ...fields] of REQUESTS) {
        for (const port of [nginx.port, lb.port]) {
          const res = await rawRequest(port, [line, "Host: site.test", ...fields]);
          assert.equal(res.status, 200, `${line} on ${port === lb.port ? "lb" : "nginx"}`);
        }
      }
      const theirs = (await lines(join(dir, "nginx.log"), REQUESTS.length)).map(normalize);
      const ours = (await lines(join(dir, "lb.log"), REQUESTS.length)).map(normalize);
      assert.deepEqual(ours, theirs);
      // What the escaping is for: a user agent's quotes can't end its field.
      assert.ok(ours[1].endsWith('"evil\\x22 \\x22quote\\x09and tab caf\\xC3\\xA9"'), ours[1]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (NGINX === undefined) {
  console.warn(
    "access_log_nginx_test: nginx not found (/usr/sbin, PATH); the comparison is skipped",
  );
}
