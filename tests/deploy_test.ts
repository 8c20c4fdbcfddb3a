/**
 * Offline checks of the deployment files, since neither kubectl nor Docker
 * runs here: every manifest in `deploy/kubernetes/` is parsed with `yaml` and
 * checked for what the API server requires and what this project relies on
 * (probes on the right ports, grace periods that outlast the drain, Services
 * that select real pods, lb arguments that `parseLbArgs` accepts), and the
 * `Dockerfile` and `.dockerignore` are read for the same conventions. The
 * image's HEALTHCHECK command is run for real against both programs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { parseBackendConfig } from "../lib/backend/config.ts";
import { UsageError } from "../lib/config/cli.ts";
import { parseLbArgs } from "../lib/config/parse.ts";
import type { LbConfig } from "../lib/config/types.ts";
import { startLb } from "./_lb.ts";
import { startDeno } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const K8S = new URL("deploy/kubernetes/", ROOT);
const read = (path: string | URL) => Deno.readTextFileSync(new URL(path, ROOT));

/**
 * lb flags announced for the manifests but possibly not merged yet. An
 * "unknown flag" error naming one of these is tolerated (the flag is dropped
 * and the parse retried); any other problem fails the test.
 */
const PENDING_LB_FLAGS = [
  "--discover",
  "--discover-interval",
  "--dns-server",
  "--config",
  "--admin-token",
];

// --- the shapes read here (only the fields checked) ---------------------------

type Labels = Record<string, string>;
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[] };
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name?: string; key?: string; optional?: boolean } };
  }[];
  ports?: { name?: string; containerPort?: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds?: number }; exec?: { command?: string[] } } };
  resources?: { requests?: Labels; limits?: Labels };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: SecurityContext;
  containers?: Container[];
  volumes?: { name: string; emptyDir?: unknown; configMap?: { name?: string } }[];
}
interface Manifest {
  file: string;
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Labels };
  // Deployment, Service, PodDisruptionBudget: the fields read, merged.
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Labels } & Record<string, unknown>;
    template?: { metadata?: { labels?: Labels }; spec?: PodSpec };
    clusterIP?: string;
    ports?: { name?: string; port?: number; targetPort?: string | number }[];
    minAvailable?: number | string;
  };
  data?: Record<string, string>;
  resources?: string[];
  images?: { name?: string; newTag?: string }[];
}

/** Every YAML document in deploy/kubernetes/, tagged with its file. */
function loadManifests(): Manifest[] {
  const all: Manifest[] = [];
  for (const file of yamlFiles()) {
    const docs = parseAllDocuments(read(new URL(file, K8S)));
    assert.ok(Array.isArray(docs), `${file}: not a YAML stream`);
    const objects = docs.filter((d) => d.contents !== null);
    assert.ok(objects.length > 0, `${file}: no YAML document`);
    for (const doc of objects) {
      assert.deepEqual(doc.errors.map(String), [], `${file}: YAML errors`);
      assert.deepEqual(doc.warnings.map(String), [], `${file}: YAML warnings`);
      all.push({ ...(doc.toJS() as Omit<Manifest, "file">), file });
    }
  }
  return all;
}

function yamlFiles(): string[] {
  return [...Deno.readDirSync(K8S)].filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => e.name).sort();
}

const byKind = (all: Manifest[], kind: string) => all.filter((m) => m.kind === kind);
const containersOf = (d: Manifest) => d.spec?.template?.spec?.containers ?? [];
const podLabels = (d: Manifest) => d.spec?.template?.metadata?.labels ?? {};

function find(all: Manifest[], kind: string, name: string): Manifest {
  const m = all.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(m, `no ${kind} named ${name} in deploy/kubernetes/`);
  return m;
}

/** Whether every label of `selector` is on `labels` with the same value. */
function selects(selector: Readonly<Record<string, unknown>> | undefined, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** The container port a probe or targetPort names (by name or number), if declared. */
function resolvePort(c: Container, port: string | number | undefined): number | undefined {
  const p = (c.ports ?? []).find((p) => p.name === port || p.containerPort === port);
  return p?.containerPort;
}

/** Which program a container runs: its command, else the image's ENTRYPOINT. */
function programOf(c: Container): string {
  const path = c.command?.[0] ?? dockerfile().entrypoint[0];
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Seconds a preStop hook keeps the pod before SIGTERM (sleep action or `sleep N`). */
function preStopSeconds(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds ?? 0;
  const cmd = hook?.exec?.command ?? [];
  return cmd[0]?.endsWith("sleep") ? Number(cmd[1]) : 0;
}

/** A container's literal environment, with a 32-character stand-in for Secret values. */
function envOf(c: Container): Record<string, string> {
  return Object.fromEntries(
    (c.env ?? []).map((e) => [e.name, e.value ?? (e.valueFrom ? "s".repeat(32) : "")]),
  );
}

/**
 * `parseLbArgs` on a container's args plus its config file (as the flags the
 * file's keys name), dropping pending flags that don't exist yet.
 */
function parseLbContainer(c: Container, fileArgs: string[]): {
  config: LbConfig;
  skipped: string[];
} {
  let args = [...(c.args ?? []), ...fileArgs];
  const skipped: string[] = [];
  for (;;) {
    try {
      const command = parseLbArgs(args, envOf(c));
      assert.equal(command.kind, "run");
      return { config: (command as { config: LbConfig }).config, skipped };
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      const flag = /^(--[\w-]+): unknown flag/.exec(err.problems[0])?.[1];
      if (err.problems.length !== 1 || !flag || !PENDING_LB_FLAGS.includes(flag)) throw err;
      skipped.push(flag);
      args = args.filter((a, i) => a !== flag && !a.startsWith(`${flag}=`) && args[i - 1] !== flag);
    }
  }
}

/** The value of `--name=value` or `--name value` in `args`. */
function flagValue(args: readonly string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  return args[i] === name ? args[i + 1] : args[i].slice(name.length + 1);
}

/** lb.json from the ConfigMap the lb mounts at --config's directory, as flags. */
function configFileArgs(all: Manifest[], lb: Manifest, c: Container): {
  keys: string[];
  args: string[];
} {
  const path = flagValue(c.args ?? [], "--config");
  if (!path) return { keys: [], args: [] };
  const dir = path.slice(0, path.lastIndexOf("/"));
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dir);
  assert.ok(mount, `--config ${path}: nothing is mounted at ${dir}`);
  const volume = lb.spec?.template?.spec?.volumes?.find((v) => v.name === mount.name);
  const cmName = volume?.configMap?.name;
  assert.ok(cmName, `volume ${mount.name} is not a ConfigMap`);
  const text = find(all, "ConfigMap", cmName).data?.[path.slice(dir.length + 1)];
  assert.ok(text, `ConfigMap ${cmName} has no key ${path.slice(dir.length + 1)}`);
  // Keys are flag names and values what the flag takes (schema/lb.schema.json).
  const json = JSON.parse(text) as Record<string, string | number | boolean>;
  const keys = Object.keys(json).filter((k) => k !== "$schema");
  return {
    keys,
    args: keys.flatMap((k) =>
      json[k] === true ? [`--${k}`] : json[k] === false ? [] : [`--${k}=${json[k]}`]
    ),
  };
}

// --- Dockerfile -----------------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue; // comments, also inside continuations
    if (line.trimEnd().endsWith("\\")) {
      pending += line.trimEnd().slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full === "") continue;
    const [keyword] = full.split(/\s/, 1);
    out.push({ keyword: keyword.toUpperCase(), args: full.slice(keyword.length).trim() });
  }
  return out;
}

let parsedDockerfile: ReturnType<typeof readDockerfile> | undefined;
function dockerfile() {
  return parsedDockerfile ??= readDockerfile();
}

function readDockerfile() {
  const all = parseDockerfile(read("Dockerfile"));
  const fromAt = all.flatMap((ins, i) => ins.keyword === "FROM" ? [i] : []);
  const final = all.slice(fromAt.at(-1));
  const last = (keyword: string) => final.findLast((i) => i.keyword === keyword)?.args;
  const user = last("USER") ?? "root";
  return {
    all,
    stages: fromAt.map((i, n) => all.slice(i, fromAt[n + 1])),
    final,
    uid: user.split(":")[0],
    expose: final.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.args.split(/\s+/))
      .map((p) => p.replace(/\/tcp$/, "")),
    healthcheck: last("HEALTHCHECK"),
    entrypoint: JSON.parse(last("ENTRYPOINT") ?? "[]") as string[],
  };
}

/** The HEALTHCHECK's exec-form command. */
function healthcheckCommand(): string[] {
  const hc = dockerfile().healthcheck ?? "";
  const json = /\bCMD\s+(\[.*\])\s*$/.exec(hc);
  assert.ok(json, `HEALTHCHECK should use the exec form CMD [...]: ${hc}`);
  return JSON.parse(json[1]) as string[];
}

// --- tests ----------------------------------------------------------------------

Deno.test("deploy: every manifest parses and has apiVersion, kind, metadata.name, namespace", () => {
  const all = loadManifests();
  const versions: Record<string, string> = {
    Namespace: "v1",
    ConfigMap: "v1",
    Service: "v1",
    Deployment: "apps/v1",
    PodDisruptionBudget: "policy/v1",
    Kustomization: "kustomize.config.k8s.io/v1beta1",
  };
  const namespace = byKind(all, "Namespace")[0]?.metadata?.name;
  for (const m of all) {
    const where = `${m.file} (${m.kind} ${m.metadata?.name})`;
    assert.ok(m.kind && versions[m.kind], `${where}: unexpected kind`);
    assert.equal(m.apiVersion, versions[m.kind], `${where}: apiVersion`);
    if (m.kind === "Kustomization") continue; // a kustomize file, not an API object
    assert.match(m.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${where}: name`);
    if (m.kind !== "Namespace" && namespace) {
      assert.equal(m.metadata?.namespace, namespace, `${where}: namespace`);
    }
  }
});

Deno.test("deploy: kustomization.yaml lists exactly the manifests in the directory", () => {
  const all = loadManifests();
  const [k] = byKind(all, "Kustomization");
  assert.ok(k, "no Kustomization");
  assert.equal(k.file, "kustomization.yaml");
  const listed = k.resources ?? [];
  assert.equal(new Set(listed).size, listed.length, "a resource is listed twice");
  assert.deepEqual(
    [...listed].sort(),
    yamlFiles().filter((f) => f !== "kustomization.yaml"),
  );
  // The image override must name the image the Deployments use.
  for (const image of k.images ?? []) {
    const used = byKind(all, "Deployment").flatMap(containersOf).map((c) => c.image ?? "");
    assert.ok(
      used.some((u) => u.replace(/:[^:/]+$/, "") === image.name),
      `images: ${image.name} is not used by any Deployment`,
    );
  }
});

Deno.test("deploy: Deployments select their pods; containers are probed, sized and locked down", () => {
  const all = loadManifests();
  const deployments = byKind(all, "Deployment");
  assert.deepEqual(deployments.map(programOfDeployment).sort(), ["backend", "lb"]);
  const binaries = dockerfile().final.filter((i) => i.keyword === "COPY").map((i) => i.args)
    .join(" ");
  for (const d of deployments) {
    const where = d.file;
    const pod = d.spec?.template?.spec;
    assert.ok(selects(d.spec?.selector?.matchLabels, podLabels(d)), `${where}: selector`);
    assert.ok((d.spec?.replicas ?? 1) >= 2, `${where}: at least two replicas`);
    for (const c of containersOf(d)) {
      const at = `${where} container ${c.name}`;
      assert.match(c.image ?? "", /:[\w][\w.-]*$/, `${at}: image needs a tag`);
      assert.doesNotMatch(c.image ?? "", /:latest$/, `${at}: image tag "latest"`);
      assert.ok(binaries.includes(`dist/${programOf(c)}`), `${at}: image has no ${programOf(c)}`);
      assert.ok((c.ports ?? []).length > 0, `${at}: ports`);
      for (const p of c.ports ?? []) assert.ok(Number.isInteger(p.containerPort), `${at}: port`);
      for (const [probe, path] of [["livenessProbe", "/livez"], ["readinessProbe", "/readyz"]]) {
        const get = c[probe as "livenessProbe" | "readinessProbe"]?.httpGet;
        assert.equal(get?.path, path, `${at}: ${probe} path`);
        assert.ok(resolvePort(c, get?.port), `${at}: ${probe} port ${get?.port} is not declared`);
      }
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${at}: requests`);
      assert.ok(c.resources?.limits?.memory, `${at}: memory limit`);
      const sc = { ...pod?.securityContext, ...c.securityContext };
      assert.equal(sc.runAsNonRoot, true, `${at}: runAsNonRoot`);
      assert.equal(String(sc.runAsUser), dockerfile().uid, `${at}: runAsUser = image USER`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
      assert.ok(sc.capabilities?.drop?.includes("ALL"), `${at}: capabilities.drop ALL`);
      // The V8 code cache (and DENO_DIR) go to /tmp; keep it writable.
      const tmp = c.volumeMounts?.find((m) => m.mountPath === "/tmp");
      assert.ok(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${at}: /tmp emptyDir`);
    }
  }
});

function programOfDeployment(d: Manifest): string {
  const [c, ...more] = containersOf(d);
  assert.ok(c && more.length === 0, `${d.file}: one container expected`);
  return programOf(c);
}

Deno.test("deploy: the lb's args parse, agree with its ports, Services and config file", () => {
  const all = loadManifests();
  const lb = byKind(all, "Deployment").find((d) => programOfDeployment(d) === "lb")!;
  const [c] = containersOf(lb);
  const file = configFileArgs(all, lb, c);
  const { config, skipped } = parseLbContainer(c, file.args);
  if (skipped.length > 0) {
    console.log(
      `deploy_test: lb flags not built yet, left out of the parse: ${skipped.join(", ")}`,
    );
  }
  assert.equal(config.adminHost, "0.0.0.0", "the kubelet probes the pod IP");
  assert.equal(config.port, resolvePort(c, "http"), "--port = containerPort http");
  assert.equal(config.adminPort, resolvePort(c, "admin"), "--admin-port = containerPort admin");
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    assert.equal(resolvePort(c, probe?.httpGet?.port), config.adminPort, "probes on admin port");
  }
  assert.equal(config.logFormat, "json");
  // Flags beat the file: a key in both would make edits to the file do nothing.
  const both = file.keys.filter((k) => flagValue(c.args ?? [], `--${k}`) !== undefined);
  assert.deepEqual(both, [], `set in both the args and the config file: ${both.join(", ")}`);
  // Several replicas must share the sticky-cookie key.
  const sticky = c.env?.find((e) => e.name === "STICKY_SECRET")?.valueFrom?.secretKeyRef;
  assert.ok(sticky?.name && sticky.optional !== true, "STICKY_SECRET from a required Secret");
  // --discover names the headless Service and one of its ports.
  const discover = flagValue(c.args ?? [], "--discover");
  assert.ok(discover, "--discover");
  const ns = lb.metadata?.namespace;
  const headless = byKind(all, "Service").filter((s) => s.spec?.clusterIP === "None");
  const names = headless.flatMap((s) =>
    (s.spec?.ports ?? []).flatMap((p) => [
      `dns:${s.metadata?.name}.${ns}.svc.cluster.local:${p.port}`,
      `srv:_${p.name}._tcp.${s.metadata?.name}.${ns}.svc.cluster.local`,
    ])
  );
  assert.ok(names.includes(discover), `--discover=${discover} is none of ${names.join(", ")}`);
});

Deno.test("deploy: terminationGracePeriodSeconds outlasts preStop + shutdown delay + drain", () => {
  const all = loadManifests();
  for (const d of byKind(all, "Deployment")) {
    const [c] = containersOf(d);
    let drainMs: number;
    if (programOf(c) === "lb") {
      const { config } = parseLbContainer(c, []);
      // Without a preStop sleep the lb's own --shutdown-delay must cover
      // endpoint removal.
      assert.ok(config.shutdownDelayMs > 0 || preStopSeconds(c) > 0, "lb: no shutdown delay");
      drainMs = config.shutdownDelayMs + config.shutdownTimeoutMs;
    } else {
      const command = parseBackendConfig(c.args ?? [], envOf(c));
      assert.equal(command.kind, "run");
      drainMs = (command as { config: { shutdownTimeoutMs: number } }).config.shutdownTimeoutMs;
    }
    const needed = preStopSeconds(c) + drainMs / 1000;
    const grace = d.spec?.template?.spec?.terminationGracePeriodSeconds ?? 30;
    assert.ok(grace > needed, `${d.file}: grace ${grace}s must exceed ${needed}s`);
  }
});

Deno.test("deploy: Services select Deployment pods and target declared ports", () => {
  const all = loadManifests();
  const deployments = byKind(all, "Deployment");
  for (const s of byKind(all, "Service")) {
    const where = `${s.file} (${s.metadata?.name})`;
    const targets = deployments.filter((d) => selects(s.spec?.selector, podLabels(d)));
    assert.equal(targets.length, 1, `${where}: selects ${targets.length} Deployments`);
    const [c] = containersOf(targets[0]);
    for (const p of s.spec?.ports ?? []) {
      assert.ok(resolvePort(c, p.targetPort ?? p.port), `${where}: targetPort ${p.targetPort}`);
    }
  }
  const lb = find(all, "Service", "lb");
  const http = lb.spec?.ports?.find((p) => p.port === 80);
  const [lbc] = containersOf(deployments.find((d) => selects(lb.spec?.selector, podLabels(d)))!);
  assert.equal(resolvePort(lbc, http?.targetPort), 8080, "lb Service: 80 → 8080");
  assert.ok(lb.spec?.ports?.some((p) => resolvePort(lbc, p.targetPort) === 9901), "metrics port");
  assert.equal(find(all, "Service", "backend-headless").spec?.clusterIP, "None");
});

Deno.test("deploy: the PodDisruptionBudget selects the lb and leaves room to evict", () => {
  const all = loadManifests();
  const [pdb] = byKind(all, "PodDisruptionBudget");
  assert.ok(pdb, "no PodDisruptionBudget");
  assert.equal(pdb.spec?.minAvailable, 1);
  const lb = byKind(all, "Deployment").find((d) => programOfDeployment(d) === "lb")!;
  assert.ok(selects(pdb.spec?.selector?.matchLabels, podLabels(lb)), "PDB selects the lb pods");
  assert.ok((lb.spec?.replicas ?? 1) > 1, "with one replica the PDB blocks every drain");
});

Deno.test("deploy: Dockerfile builds in two stages and runs lb as non-root with a HEALTHCHECK", () => {
  const df = dockerfile();
  assert.ok(df.stages.length >= 2, "multi-stage: two FROM lines");
  const pinned = /DENO_VERSION=(\S+)/.exec(read(".ci/run"))?.[1];
  assert.match(
    df.stages[0][0].args,
    new RegExp(`^denoland/deno:(bin-)?${pinned?.replaceAll(".", "\\.")}\\s+AS\\s+\\w+$`, "i"),
  );
  const stageName = /\bAS\s+(\w+)$/i.exec(df.stages[0][0].args)![1];
  assert.ok(df.stages[0].some((i) => i.keyword === "RUN" && i.args.includes("deno task compile")));
  for (const bin of ["lb", "backend"]) {
    assert.ok(
      df.final.some((i) =>
        i.keyword === "COPY" && i.args.includes(`--from=${stageName}`) &&
        i.args.includes(`dist/${bin}`) && i.args.includes("/usr/local/bin/")
      ),
      `final stage copies dist/${bin} from ${stageName}`,
    );
  }
  assert.match(df.uid, /^\d+$/, "USER numeric (runAsNonRoot can only check a number)");
  assert.notEqual(df.uid, "0", "USER is not root");
  assert.ok(df.expose.includes("8080") && df.expose.includes("9901"), "EXPOSE 8080 9901");
  assert.ok(df.healthcheck && !/^NONE\b/i.test(df.healthcheck), "HEALTHCHECK");
  assert.deepEqual(df.entrypoint, ["/usr/local/bin/lb"]);
});

Deno.test("deploy: .dockerignore keeps every file deno task compile reads", async () => {
  const rules = read(".dockerignore").split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => ({ keep: l.startsWith("!"), re: globToRegExp(l.replace(/^!/, "")) }));
  // Docker: the last matching rule wins, and a rule matching a directory
  // covers everything below it.
  const ignored = (path: string) => {
    const parts = path.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let out = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) out = !r.keep;
    return out;
  };
  const needed = new Set(["deno.json", "deno.lock"]);
  for (const entry of ["main.ts", "backend.ts", "scripts/compile.ts"]) {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.equal(code, 0, `deno info ${entry}`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string }[];
    };
    for (const { specifier } of info.modules) {
      if (specifier.startsWith(ROOT.href)) needed.add(specifier.slice(ROOT.href.length));
    }
  }
  assert.ok(needed.has("lib/server/lb.ts"), "deno info found the sources");
  const left = [...needed].filter(ignored);
  assert.deepEqual(left, [], `left out of the build context: ${left.join(", ")}`);
  for (const path of [".git/HEAD", "dist/lb"]) assert.ok(ignored(path), `${path} in the context`);
});

function globToRegExp(pattern: string): RegExp {
  const part = (p: string) =>
    p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${pattern.replace(/^\/+|\/+$/g, "").split("**").map(part).join(".*")}$`);
}

const hasBash = (() => {
  try {
    return new Deno.Command("bash", { args: ["-c", "true"] }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!hasBash) console.log("deploy_test: HEALTHCHECK run SKIPPED — no bash on this machine");

Deno.test({
  name: "deploy: the Dockerfile HEALTHCHECK passes against lb and backend, fails on a closed port",
  ignore: !hasBash,
  async fn() {
    const [program, ...args] = healthcheckCommand();
    const check = async (port: number) =>
      (await new Deno.Command(program, {
        args,
        env: { HEALTHCHECK_PORT: String(port) },
        stdout: "null",
        stderr: "null",
      }).output()).code;
    await using backend = await startDeno("backend.ts", ["--port", "0", "--host", "127.0.0.1"]);
    await using lb = await startLb([`http://127.0.0.1:${backend.port}`]);
    assert.equal(await check(lb.adminPort), 0, "lb admin /livez");
    assert.equal(await check(backend.port), 0, "backend /livez");
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = listener.addr.port;
    listener.close();
    assert.notEqual(await check(closed), 0, "nothing listening");
  },
});
