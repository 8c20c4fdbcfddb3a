/**
 * Reloads in the dashboard's event list: an in-process lb with a config
 * file, reloaded by its `Reloader` once with a valid file (a `reload`
 * event with the new summary) and once with a broken one (`reload-failed`
 * with the problem); and the SSE stream of that lb carries them.
 */

import assert from "node:assert/strict";
import { loadConfigFile } from "../../lib/config/file.ts";
import { parseLbArgs } from "../../lib/config/parse.ts";
import { log } from "../../lib/core/logging.ts";
import { startLoadBalancer } from "../../lib/server/lb.ts";
import { Reloader } from "../../lib/server/reloader.ts";
import { LOOPBACK_PORTS } from "../_lb.ts";

Deno.test("dashboard events: a reload applied and a reload rejected are both recorded", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.json`;
  const write = (backends: string[]) =>
    Deno.writeTextFile(path, JSON.stringify({ pools: { api: { backends } } }));
  await write(["http://127.0.0.1:1"]);
  const args = [
    ...LOOPBACK_PORTS,
    "--shutdown-delay",
    "0s",
    "--config",
    path,
  ];
  const command = parseLbArgs(args, {}, undefined, await loadConfigFile(path));
  assert.equal(command.kind, "run");
  const lb = startLoadBalancer(command.config);
  const reloader = new Reloader({ lb, path, args, env: {}, log: log("lb", "config") });
  try {
    await write(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    assert.equal(await reloader.reload("test"), true);
    await Deno.writeTextFile(path, "{ not json");
    assert.equal(await reloader.reload("test again"), false);
    const kinds = lb.events.since().map((e) => [e.kind, e.detail.split(":")[0]]);
    assert.deepEqual(kinds.filter(([k]) => k.startsWith("reload")), [
      ["reload", "test"],
      ["reload-failed", "test again"],
    ]);
    assert.ok(
      lb.events.since().some((e) => e.kind === "added" && e.backend === "http://127.0.0.1:2"),
      "the reload's new backend is an event too",
    );

    const res = await fetch(`http://127.0.0.1:${lb.adminAddr.port}/dashboard/events`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/event: snapshot\ndata: .*\n\n/.test(text)) text += (await reader.read()).value;
    const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n\n/.exec(text)![1]);
    assert.deepEqual(
      snapshot.events.filter((e: { kind: string }) => e.kind.startsWith("reload")).map((
        e: { kind: string },
      ) => e.kind),
      ["reload", "reload-failed"],
    );
    await reader.cancel();
  } finally {
    await lb.shutdown();
    await reloader.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
