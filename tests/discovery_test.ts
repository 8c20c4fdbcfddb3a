/**
 * DNS discovery: the pure parts (specs, SRV choice, set comparison, round
 * delays), the scheduler against a scripted resolver, and resolution and
 * re-resolution against a real DNS server, dnsmasq, on loopback.
 *
 * @module
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { BackendSpec } from "../lib/core/backend_spec.ts";
import type { DiscoverTarget } from "../lib/config/types.ts";
import {
  createResolver,
  type DiscoveryLog,
  DnsDiscovery,
  type DnsDiscoveryOptions,
  DnsLookupError,
  type DnsResolver,
  resolveTargets,
  roundDelay,
} from "../lib/discovery/dns.ts";
import { type AddressRecord, isNoRecords, serverAddress } from "../lib/discovery/resolve.ts";
import {
  addressSpec,
  diffSpecs,
  lowestPriority,
  mergeSpecs,
  sameSpecs,
  type SrvRecord,
  srvWeight,
} from "../lib/discovery/specs.ts";
import { log as lbLog } from "../lib/core/logging.ts";
import { startLb } from "./_lb.ts";

// A LogTape logger is a DiscoveryLog (checked by `deno check`).
const _logtapeFits: DiscoveryLog = lbLog("lb", "discovery");

// ---------------------------------------------------------------------------
// Pure parts

Deno.test("addressSpec: IPv4, IPv6 bracketed and compressed, port 80 left out like --backends", () => {
  assert.deepEqual(addressSpec("127.0.0.11", 8080), {
    origin: "http://127.0.0.11:8080",
    hostname: "127.0.0.11",
    port: 8080,
    weight: 1,
  });
  assert.deepEqual(addressSpec("::1", 8080, 3), {
    origin: "http://[::1]:8080",
    hostname: "::1",
    port: 8080,
    weight: 3,
  });
  assert.equal(addressSpec("0:0:0:0:0:0:0:1", 81).origin, "http://[::1]:81");
  assert.equal(addressSpec("127.0.0.11", 80).origin, "http://127.0.0.11");
  assert.equal(addressSpec("127.0.0.11", 80).port, 80);
});

Deno.test("lowestPriority keeps only the lowest priority group and drops '.' targets", () => {
  const srv = (name: string, priority: number, weight = 1): SrvRecord => ({
    name,
    port: 80,
    priority,
    weight,
  });
  assert.deepEqual(lowestPriority([srv("c", 20), srv("a", 10), srv("b", 10)]), [
    srv("a", 10),
    srv("b", 10),
  ]);
  assert.deepEqual(lowestPriority([srv(".", 0), srv("a", 10)]), [srv("a", 10)]);
  assert.deepEqual(lowestPriority([srv(".", 0)]), []);
  assert.deepEqual(lowestPriority([]), []);
  assert.equal(srvWeight(srv("a", 0, 0)), 1);
  assert.equal(srvWeight(srv("a", 0, 7)), 7);
});

Deno.test("mergeSpecs: one spec per origin with the largest weight, sorted by origin", () => {
  const merged = mergeSpecs([
    addressSpec("127.0.0.12", 80, 2),
    addressSpec("127.0.0.11", 80, 1),
    addressSpec("127.0.0.12", 80, 5),
    addressSpec("127.0.0.12", 80, 3),
  ]);
  assert.deepEqual(merged.map((s) => [s.origin, s.weight]), [
    ["http://127.0.0.11", 1],
    ["http://127.0.0.12", 5],
  ]);
});

Deno.test("sameSpecs ignores order and sees weight changes; diffSpecs names what changed", () => {
  const a = addressSpec("127.0.0.11", 80);
  const b = addressSpec("127.0.0.12", 80);
  const c = addressSpec("127.0.0.13", 80);
  assert.equal(sameSpecs([a, b], [b, a]), true);
  assert.equal(sameSpecs([], []), true);
  assert.equal(sameSpecs([a, b], [a]), false);
  assert.equal(sameSpecs([a, b], [a, { ...b, weight: 2 }]), false);
  assert.deepEqual(diffSpecs([a, b], [{ ...b, weight: 2 }, c]), {
    added: [c.origin],
    removed: [a.origin],
    reweighted: [b.origin],
  });
});

Deno.test("roundDelay: the interval, sooner at the TTL, never under the floor", () => {
  assert.equal(roundDelay(Infinity, 10_000, 1000), 10_000);
  assert.equal(roundDelay(3000, 10_000, 1000), 3000);
  assert.equal(roundDelay(200, 10_000, 1000), 1000);
  assert.equal(roundDelay(-5000, 10_000, 1000), 1000);
  assert.equal(roundDelay(200, 10_000, 50), 200);
});

Deno.test("serverAddress brackets IPv6; isNoRecords tells missing records from failures", () => {
  assert.equal(serverAddress({ host: "127.0.0.1", port: 5353 }), "127.0.0.1:5353");
  assert.equal(serverAddress({ host: "::1", port: 53 }), "[::1]:53");
  assert.equal(isNoRecords(dnsError("ENOTFOUND")), true);
  assert.equal(isNoRecords(dnsError("ENODATA")), true);
  assert.equal(isNoRecords(dnsError("ETIMEOUT")), false);
  assert.equal(isNoRecords(new Error("no code")), false);
});

// ---------------------------------------------------------------------------
// A scripted resolver: answers per name and type; an error code string fails
// the query with that code; unknown names are NXDOMAIN.

type Answer<T> = T[] | string;
interface FakeZone {
  a?: Record<string, Answer<AddressRecord>>;
  aaaa?: Record<string, Answer<AddressRecord>>;
  srv?: Record<string, Answer<SrvRecord>>;
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`query ${code}`), { code });
}

class FakeResolver implements DnsResolver {
  zone: FakeZone;
  queries = 0;
  /** While set, queries wait until cancel(). */
  hang = false;
  #hung: (() => void)[] = [];

  constructor(zone: FakeZone) {
    this.zone = zone;
  }

  resolve4(name: string) {
    return this.#answer(this.zone.a?.[name]);
  }
  resolve6(name: string) {
    return this.#answer(this.zone.aaaa?.[name]);
  }
  resolveSrv(name: string) {
    return this.#answer(this.zone.srv?.[name]);
  }
  cancel(): void {
    for (const reject of this.#hung.splice(0)) reject();
  }

  async #answer<T>(answer: Answer<T> | undefined): Promise<T[]> {
    this.queries++;
    if (this.hang) {
      await new Promise<void>((_, reject) => {
        this.#hung.push(() => reject(dnsError("ECANCELLED")));
      });
    }
    await Promise.resolve();
    if (answer === undefined) throw dnsError("ENOTFOUND");
    if (typeof answer === "string") throw dnsError(answer);
    return answer;
  }
}

const dns = (name: string, port = 80): DiscoverTarget => ({ kind: "dns", name, port });
const srv = (name: string): DiscoverTarget => ({ kind: "srv", name });
const rec = (address: string, ttl = 30): AddressRecord => ({ address, ttl });

Deno.test("resolveTargets: A and AAAA on the target's port, the smallest TTL, expiry on the clock", async () => {
  const resolver = new FakeResolver({
    a: { "web.test": [rec("127.0.0.12", 30), rec("127.0.0.11", 20)] },
    aaaa: { "web.test": [rec("::1", 40)], "v6.test": "ENODATA" },
  });
  const got = await resolveTargets([dns("web.test", 8080), dns("v6.test")], resolver, () => 1000);
  assert.deepEqual(got.specs.map((s) => s.origin), [
    "http://127.0.0.11:8080",
    "http://127.0.0.12:8080",
    "http://[::1]:8080",
  ]);
  assert.equal(got.ttlMs, 20_000);
  assert.equal(got.expiresAt, 21_000);
});

Deno.test("resolveTargets: SRV uses the lowest priority group's ports and weights", async () => {
  const resolver = new FakeResolver({
    srv: {
      "_http._tcp.web.test": [
        { name: "a.test", port: 8001, priority: 10, weight: 5 },
        { name: "b.test", port: 8002, priority: 10, weight: 0 },
        { name: "c.test", port: 8003, priority: 20, weight: 9 },
      ],
    },
    a: { "a.test": [rec("127.0.0.21", 7)], "b.test": [rec("127.0.0.22", 9)], "c.test": [rec("x")] },
  });
  const got = await resolveTargets([srv("_http._tcp.web.test")], resolver);
  assert.deepEqual(got.specs.map((s) => [s.origin, s.weight]), [
    ["http://127.0.0.21:8001", 5],
    ["http://127.0.0.22:8002", 1],
  ]);
  assert.equal(got.ttlMs, 7000);
});

Deno.test("resolveTargets: missing names contribute nothing; no records at all means TTL Infinity", async () => {
  const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.11")] } });
  const got = await resolveTargets(
    [dns("web.test"), dns("nx.test"), srv("_http._tcp.nx.test")],
    resolver,
  );
  assert.deepEqual(got.specs.map((s) => s.origin), ["http://127.0.0.11"]);
  const none = await resolveTargets([dns("nx.test")], resolver);
  assert.deepEqual(none.specs, []);
  assert.equal(none.ttlMs, Infinity);
});

Deno.test("resolveTargets: any other failure rejects the whole resolution", async () => {
  const resolver = new FakeResolver({
    a: { "web.test": [rec("127.0.0.11")], "bad.test": "ETIMEOUT" },
  });
  await assert.rejects(
    resolveTargets([dns("web.test"), dns("bad.test")], resolver),
    (err: unknown) => err instanceof DnsLookupError && err.code === "ETIMEOUT",
  );
});

/** A log that records every line. */
function recordingLog() {
  const lines: { level: "info" | "warning"; message: string; props: Record<string, unknown> }[] =
    [];
  const log: DiscoveryLog = {
    info: (message, props) => lines.push({ level: "info", message, props }),
    warning: (message, props) => lines.push({ level: "warning", message, props }),
  };
  return { lines, log, warnings: () => lines.filter((l) => l.level === "warning") };
}

/** Starts a DnsDiscovery recording its onChange calls; stop it with `await using`. */
function discover(
  options: Omit<DnsDiscoveryOptions, "onChange" | "log">,
): {
  discovery: DnsDiscovery;
  changes: BackendSpec[][];
  logs: ReturnType<typeof recordingLog>;
} & AsyncDisposable {
  const changes: BackendSpec[][] = [];
  const logs = recordingLog();
  const discovery = new DnsDiscovery({
    ...options,
    onChange: (specs) => changes.push(specs),
    log: logs.log,
  });
  discovery.start();
  return { discovery, changes, logs, [Symbol.asyncDispose]: () => discovery.stop() };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const origins = (specs: readonly BackendSpec[]) => specs.map((s) => s.origin);

Deno.test("DnsDiscovery: onChange once per change, with the whole sorted set; one log line each", async () => {
  const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.12", 0)] } });
  await using d = discover({
    targets: [dns("web.test")],
    intervalMs: 60_000,
    minIntervalMs: 10,
    resolverFactory: () => resolver,
  });
  await waitFor(() => d.changes.length === 1, "the first set");
  assert.deepEqual(origins(d.changes[0]), ["http://127.0.0.12"]);
  const seen = resolver.queries;
  await waitFor(() => resolver.queries >= seen + 6, "three more rounds");
  assert.equal(d.changes.length, 1);

  resolver.zone = { a: { "web.test": [rec("127.0.0.12", 0), rec("127.0.0.11", 0)] } };
  await waitFor(() => d.changes.length === 2, "the second set");
  assert.deepEqual(origins(d.changes[1]), ["http://127.0.0.11", "http://127.0.0.12"]);
  assert.deepEqual(origins(d.discovery.specs), origins(d.changes[1]));
  const info = d.logs.lines.filter((l) => l.level === "info");
  assert.equal(info.length, 2);
  assert.deepEqual(info[1].props, {
    count: 2,
    added: "http://127.0.0.11",
    removed: "none",
    reweighted: "none",
  });
});

Deno.test("DnsDiscovery: a failure streak keeps the last good set, logs once, and the recovery once", async () => {
  const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.11", 0)] } });
  await using d = discover({
    targets: [dns("web.test")],
    intervalMs: 60_000,
    minIntervalMs: 10,
    resolverFactory: () => resolver,
  });
  await waitFor(() => d.changes.length === 1, "the first set");
  resolver.zone = { a: { "web.test": "ETIMEOUT" } };
  const seen = resolver.queries;
  await waitFor(() => resolver.queries >= seen + 10, "five failed rounds");
  assert.equal(d.changes.length, 1);
  assert.deepEqual(origins(d.discovery.specs), ["http://127.0.0.11"]);
  assert.equal(d.logs.warnings().length, 1);
  assert.match(String(d.logs.warnings()[0].props.error), /A web\.test: ETIMEOUT/);
  assert.equal(d.logs.warnings()[0].props.count, 1);

  resolver.zone = { a: { "web.test": [rec("127.0.0.11", 0)] } };
  await waitFor(() => d.logs.lines.some((l) => /recovered/.test(l.message)), "the recovery");
  assert.equal(d.changes.length, 1, "the same set again is no change");
});

Deno.test("DnsDiscovery: an answer with no addresses at all keeps a non-empty set unless allowEmpty", async () => {
  for (const allowEmpty of [false, true]) {
    const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.11", 0)] } });
    await using d = discover({
      targets: [dns("web.test")],
      intervalMs: 60_000,
      minIntervalMs: 10,
      resolverFactory: () => resolver,
      allowEmpty,
    });
    await waitFor(() => d.changes.length === 1, "the first set");
    resolver.zone = {};
    if (allowEmpty) {
      await waitFor(() => d.changes.length === 2, "the empty set");
      assert.deepEqual(d.changes[1], []);
    } else {
      const seen = resolver.queries;
      await waitFor(() => resolver.queries >= seen + 6, "three empty rounds");
      assert.equal(d.changes.length, 1);
      assert.equal(d.logs.warnings().length, 1);
      assert.match(d.logs.warnings()[0].props.error as string, /SERVFAIL/);
    }
  }
});

Deno.test("DnsDiscovery: never re-resolves more often than the floor, even with TTL 0", async () => {
  const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.11", 0)] } });
  await using d = discover({
    targets: [dns("web.test")],
    intervalMs: 60_000,
    minIntervalMs: 300,
    resolverFactory: () => resolver,
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  // Rounds at 0, >=300, >=600 ms: at most three, two queries (A, AAAA) each.
  assert.ok(resolver.queries <= 6, `${resolver.queries} queries`);
  assert.equal(d.changes.length, 1);
});

Deno.test("DnsDiscovery: stop() abandons a round in flight and no onChange follows", async () => {
  const resolver = new FakeResolver({ a: { "web.test": [rec("127.0.0.11", 0)] } });
  resolver.hang = true;
  const d = discover({
    targets: [dns("web.test")],
    intervalMs: 60_000,
    resolverFactory: () => resolver,
  });
  await waitFor(() => resolver.queries === 2, "the queries to start");
  await d.discovery.stop();
  assert.deepEqual(d.changes, []);
  assert.deepEqual(d.logs.lines, [], "a cancelled round is not a failure");
  d.discovery.start();
  assert.equal(resolver.queries, 2, "a stopped discovery does not start again");
});

Deno.test("DnsDiscovery: an empty first answer is worth one warning", async () => {
  const resolver = new FakeResolver({});
  await using d = discover({
    targets: [dns("nx.test"), srv("_http._tcp.nx.test")],
    intervalMs: 60_000,
    resolverFactory: () => resolver,
  });
  await waitFor(() => d.logs.lines.length === 1, "the warning");
  assert.deepEqual(d.logs.warnings()[0].props, { targets: "dns:nx.test srv:_http._tcp.nx.test" });
  assert.deepEqual(d.changes, []);
});

Deno.test("createResolver with a server names the permission Deno needs for it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "discovery_test_" });
  try {
    const script = `${dir}/perm.ts`;
    const resolve = new URL("../lib/discovery/resolve.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { createResolver } from "${resolve}";\n` +
        `try { createResolver({ host: "127.0.0.1", port: 53 }); console.log("created"); }\n` +
        `catch (err) { console.log(err.message); }\n`,
    );
    const run = (flags: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", ...flags, script],
        stdin: "null",
        stderr: "inherit",
      }).output().then((o) => new TextDecoder().decode(o.stdout).trim());
    assert.match(await run(["--allow-net"]), /needs --allow-sys=networkInterfaces/);
    assert.equal(await run(["--allow-net", "--allow-sys=networkInterfaces"]), "created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// Against a real DNS server: dnsmasq on a loopback UDP port, answering from
// a hosts file (`--local-ttl=1`: TTL 1 s) and `srv-host` lines, and NXDOMAIN
// for any other name under .test (`local=/test/`).

const DNSMASQ = "/usr/sbin/dnsmasq";
const HAVE_DNSMASQ = (() => {
  try {
    return Deno.statSync(DNSMASQ).isFile;
  } catch {
    return false;
  }
})();
if (!HAVE_DNSMASQ) {
  console.log("discovery_test: dnsmasq not installed (apt-get install dnsmasq-base); skipping");
}

/**
 * A port on 127.0.0.1 free for both UDP and TCP (bound and released; dnsmasq
 * takes it right after). dnsmasq listens on both, so a port free only for
 * UDP would fail its start with "Address already in use".
 */
async function freeUdpPort(): Promise<number> {
  for (;;) {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken for TCP: try another.
    }
  }
}

/** A running dnsmasq. Its files live in `dir`; {@link Dnsmasq.stop} keeps them for a restart. */
class Dnsmasq {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<unknown>;

  private constructor(readonly dir: string, readonly port: number) {
    const args = [
      "--no-daemon",
      "--keep-in-foreground",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      `--addn-hosts=${dir}/hosts`,
      "--local-ttl=1",
      "--log-facility=-",
      "--pid-file=",
      `--conf-file=${dir}/dnsmasq.conf`,
    ];
    // As root it would switch to "nobody", who can't read the private temp dir.
    if (Deno.uid() === 0) args.push("--user=root");
    this.#child = new Deno.Command(DNSMASQ, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    })
      .spawn();
    const lines = this.#child.stderr.pipeThrough(new TextDecoderStream());
    this.#done = Promise.all([this.#child.status, this.#collect(lines)]);
  }

  /** Writes the zone into a new temp dir and starts dnsmasq on a free port. */
  static async start(hosts: string, srv: string[] = []): Promise<Dnsmasq> {
    const dir = await Deno.makeTempDir({ prefix: "discovery_test_" });
    await Deno.writeTextFile(`${dir}/hosts`, hosts);
    await Deno.writeTextFile(
      `${dir}/dnsmasq.conf`,
      ["local=/test/", ...srv.map((s) => `srv-host=${s}`), ""].join("\n"),
    );
    for (let attempt = 1;; attempt++) {
      try {
        return await Dnsmasq.#startOn(dir, await freeUdpPort());
      } catch (err) {
        // Another process may have taken the port between our probe and dnsmasq's bind.
        if (attempt === 3) throw err;
      }
    }
  }

  static async #startOn(dir: string, port: number): Promise<Dnsmasq> {
    const server = new Dnsmasq(dir, port);
    await server.#waitForReads(1);
    return server;
  }

  /** Starts dnsmasq again on the same dir and port. */
  restart(): Promise<Dnsmasq> {
    return Dnsmasq.#startOn(this.dir, this.port);
  }

  get server(): { host: string; port: number } {
    return { host: "127.0.0.1", port: this.port };
  }

  /** Replaces the hosts file and makes dnsmasq re-read it (SIGHUP). */
  async setHosts(hosts: string): Promise<void> {
    const reads = this.#reads();
    await Deno.writeTextFile(`${this.dir}/hosts`, hosts);
    this.#child.kill("SIGHUP");
    await this.#waitForReads(reads + 1);
  }

  /** Stops dnsmasq and waits for it; the port then has nothing listening. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await this.#done;
  }

  /** Stops dnsmasq and removes its files. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true });
  }

  /** How often dnsmasq has logged reading the hosts file (at start and on each SIGHUP). */
  #reads(): number {
    return this.lines.filter((l) => l.includes(`read ${this.dir}/hosts`)).length;
  }

  async #waitForReads(n: number): Promise<void> {
    let exited = false;
    this.#child.status.then(() => exited = true);
    const deadline = Date.now() + 10_000;
    while (this.#reads() < n) {
      if (exited || Date.now() > deadline) {
        await this.stop();
        throw new Error(`dnsmasq did not get ready:\n${this.lines.join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #collect(text: ReadableStream<string>): Promise<void> {
    let rest = "";
    for await (const chunk of text) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      this.lines.push(...parts);
    }
    if (rest) this.lines.push(rest);
  }
}

/** Runs `fn` with a dnsmasq serving `hosts` and `srv`; ignored without dnsmasq. */
function dnsTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `dnsmasq: ${name}`, ignore: !HAVE_DNSMASQ, fn });
}

const WEB_HOSTS = "127.0.0.11 web.test\n127.0.0.12 web.test\n";

dnsTest("A records become specs on the target's port, with the TTL", async () => {
  await using server = await Dnsmasq.start(WEB_HOSTS);
  const got = await resolveTargets([dns("web.test", 8080)], createResolver(server.server));
  assert.deepEqual(got.specs, [
    { origin: "http://127.0.0.11:8080", hostname: "127.0.0.11", port: 8080, weight: 1 },
    { origin: "http://127.0.0.12:8080", hostname: "127.0.0.12", port: 8080, weight: 1 },
  ]);
  assert.ok(got.ttlMs <= 1000, `ttl ${got.ttlMs} ms, expected --local-ttl=1`);
});

dnsTest("AAAA records are bracketed; a dual-stack name gives both", async () => {
  await using server = await Dnsmasq.start("::1 six.test\n127.0.0.13 dual.test\n::1 dual.test\n");
  const resolver = createResolver(server.server);
  const six = await resolveTargets([dns("six.test", 8080)], resolver);
  assert.deepEqual(six.specs, [
    { origin: "http://[::1]:8080", hostname: "::1", port: 8080, weight: 1 },
  ]);
  const dual = await resolveTargets([dns("dual.test", 9000)], resolver);
  assert.deepEqual(origins(dual.specs), ["http://127.0.0.13:9000", "http://[::1]:9000"]);
});

dnsTest(
  "SRV records give their targets' addresses with the records' ports and weights",
  async () => {
    await using server = await Dnsmasq.start(
      "127.0.0.21 a.test\n127.0.0.22 b.test\n127.0.0.23 c.test\n",
      [
        "_http._tcp.web.test,a.test,8001,10,5",
        "_http._tcp.web.test,b.test,8002,10,0",
        // A higher priority number is a fallback (RFC 2782): not used while the others exist.
        "_http._tcp.web.test,c.test,8003,20,9",
      ],
    );
    const got = await resolveTargets([srv("_http._tcp.web.test")], createResolver(server.server));
    assert.deepEqual(got.specs, [
      { origin: "http://127.0.0.21:8001", hostname: "127.0.0.21", port: 8001, weight: 5 },
      { origin: "http://127.0.0.22:8002", hostname: "127.0.0.22", port: 8002, weight: 1 },
    ]);
    assert.ok(got.ttlMs <= 1000);
  },
);

dnsTest("NXDOMAIN names contribute nothing and don't fail the others", async () => {
  await using server = await Dnsmasq.start(WEB_HOSTS);
  const got = await resolveTargets(
    [dns("nx.test"), dns("web.test", 8080), srv("_http._tcp.nx.test")],
    createResolver(server.server),
  );
  assert.deepEqual(origins(got.specs), ["http://127.0.0.11:8080", "http://127.0.0.12:8080"]);
  const none = await resolveTargets([dns("nx.test")], createResolver(server.server));
  assert.deepEqual(none.specs, []);
});

dnsTest("a server with nothing listening is a failure, not an empty answer", async () => {
  const port = await freeUdpPort();
  const resolver = createResolver({ host: "127.0.0.1", port }, { timeoutMs: 300 });
  await assert.rejects(
    resolveTargets([dns("web.test")], resolver),
    (err: unknown) => err instanceof DnsLookupError && err.code !== "ENOTFOUND",
  );
});

dnsTest(
  "hosts file changes add and remove specs within the 1 s TTL, not the 60 s interval",
  async () => {
    await using server = await Dnsmasq.start(WEB_HOSTS);
    let rounds = 0;
    await using d = discover({
      targets: [dns("web.test", 8080)],
      intervalMs: 60_000,
      minIntervalMs: 100,
      dnsServer: server.server,
      resolverFactory: (s) => {
        const inner = createResolver(s);
        return {
          resolve4: (name, options) => {
            rounds++;
            return inner.resolve4(name, options);
          },
          resolve6: (name, options) => inner.resolve6(name, options),
          resolveSrv: (name) => inner.resolveSrv(name),
          cancel: () => inner.cancel?.(),
        };
      },
    });
    await waitFor(() => d.changes.length === 1, "the first set");
    assert.deepEqual(origins(d.changes[0]), ["http://127.0.0.11:8080", "http://127.0.0.12:8080"]);

    const before = Date.now();
    await server.setHosts("127.0.0.12 web.test\n127.0.0.13 web.test\n");
    // TTL 1 s: the next round is due within about a second of the change.
    await waitFor(() => d.changes.length === 2, "the change", 5000);
    const tookMs = Date.now() - before;
    assert.deepEqual(origins(d.changes[1]), ["http://127.0.0.12:8080", "http://127.0.0.13:8080"]);
    const change = d.logs.lines.filter((l) => l.message.startsWith("discovered backends"))[1];
    assert.equal(change.props.added, "http://127.0.0.13:8080");
    assert.equal(change.props.removed, "http://127.0.0.11:8080");

    const seen = rounds;
    await waitFor(() => rounds >= seen + 2, "two more rounds", 5000);
    assert.equal(d.changes.length, 2, "an unchanged answer calls onChange no more");
    assert.ok(tookMs < 5000, `picked up after ${tookMs} ms`);
  },
);

dnsTest(
  "when the DNS server dies the last good set is kept, and a restart is picked up",
  async () => {
    let server = await Dnsmasq.start(WEB_HOSTS);
    try {
      await using d = discover({
        targets: [dns("web.test", 8080)],
        intervalMs: 60_000,
        minIntervalMs: 100,
        dnsServer: server.server,
        resolverFactory: (s) => createResolver(s, { timeoutMs: 300 }),
      });
      await waitFor(() => d.changes.length === 1, "the first set");
      await server.stop();
      await waitFor(() => d.logs.warnings().length === 1, "the failure");
      // Several more failed rounds (300 ms timeout + 100 ms floor each).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(d.changes.length, 1);
      assert.equal(d.logs.warnings().length, 1, "one warning per failure streak");
      assert.equal(d.discovery.specs.length, 2);

      await Deno.writeTextFile(`${server.dir}/hosts`, "127.0.0.11 web.test\n");
      server = await server.restart();
      await waitFor(() => d.changes.length === 2, "the set after the restart");
      assert.deepEqual(origins(d.changes[1]), ["http://127.0.0.11:8080"]);
      assert.ok(d.logs.lines.some((l) => /recovered/.test(l.message)));
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },
);

/** A backend answering its own address, on `hostname:port` (port 0: any). */
function namedBackend(hostname: string, port: number): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname, port, onListen: () => {} }, () => new Response(hostname));
}

/** Backends on 127.0.0.11 and 127.0.0.12 on one port, as `dns:NAME:PORT` needs. */
function twoBackends(): Deno.HttpServer<Deno.NetAddr>[] {
  for (let attempt = 1;; attempt++) {
    const first = namedBackend("127.0.0.11", 0);
    try {
      return [first, namedBackend("127.0.0.12", first.addr.port)];
    } catch (err) {
      first.shutdown();
      if (!(err instanceof Deno.errors.AddrInUse) || attempt === 3) throw err;
    }
  }
}

/** The backends (by answer) that `count` requests through the lb reached. */
async function reached(url: string, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const res = await fetch(url);
    const body = await res.text();
    if (res.status === 200) seen.add(body);
  }
  return seen;
}

dnsTest(
  "end to end: the lb sends traffic to discovered backends and follows DNS changes",
  async () => {
    const backends = twoBackends();
    try {
      await using server = await Dnsmasq.start(WEB_HOSTS);
      await using lb = await startLb([], [
        "--discover",
        `dns:web.test:${backends[0].addr.port}`,
        "--dns-server",
        `127.0.0.1:${server.port}`,
        "--discover-interval",
        "1s",
      ]);
      const output = () => `\nlb output:\n${lb.proc.lines().join("\n")}`;
      const both = ["127.0.0.11", "127.0.0.12"];
      await eventually(
        async () => sameMembers(await reached(lb.url, 10), both),
        () => `traffic on both discovered backends${output()}`,
      );
      await server.setHosts("127.0.0.12 web.test\n");
      // Gone from DNS: drains, and then every request lands on the one left.
      await eventually(
        async () => sameMembers(await reached(lb.url, 10), ["127.0.0.12"]),
        () => `traffic on 127.0.0.12 only${output()}`,
      );
      await server.setHosts(WEB_HOSTS);
      await eventually(
        async () => sameMembers(await reached(lb.url, 10), both),
        () => `127.0.0.11 back${output()}`,
      );
      // Each change is logged once: found both, lost one, found it again.
      const changes = () => lb.proc.lines().filter((l) => l.includes("discovered backends:"));
      await eventually(() => changes().length >= 3, () => `three change lines${output()}`);
      assert.equal(changes().length, 3, output());
      assert.match(changes()[1], /removed http:\/\/127\.0\.0\.11:\d+/);
    } finally {
      await Promise.all(backends.map((b) => b.shutdown()));
    }
  },
);

function sameMembers(seen: Set<string>, expected: string[]): boolean {
  return seen.size === expected.length && expected.every((e) => seen.has(e));
}

/** Polls an async `check` every 100 ms until it is true; fails after `timeoutMs`, saying `what()`. */
async function eventually(
  check: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
