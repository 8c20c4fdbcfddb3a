/**
 * The pure parts of `--pin` (CPU lists, the split between load and proxy,
 * the taskset command lines) and the listener count that tells whether a
 * target's workers each opened their own socket.
 */

import assert from "node:assert/strict";
import {
  allowedCpus,
  cpuListText,
  describePin,
  parseCpuList,
  pinned,
  type PinPlan,
  pinProcessArgv,
  planPinning,
} from "../scripts/bench/pinning.ts";
import { findExecutable, listenerCount, listeners } from "../scripts/bench/processes.ts";

const TASKSET = "/usr/bin/taskset";
const installedTaskset = findExecutable("taskset");

Deno.test("parseCpuList: single CPUs, ranges and both, ascending and each once", () => {
  assert.deepEqual(parseCpuList("0"), [0]);
  assert.deepEqual(parseCpuList("0-1"), [0, 1]);
  assert.deepEqual(parseCpuList("8-9,0-2,6\n"), [0, 1, 2, 6, 8, 9]);
  assert.deepEqual(parseCpuList("1,1-2"), [1, 2]);
  assert.throws(() => parseCpuList(""), /not a CPU list: ""/);
  assert.throws(() => parseCpuList("0-"), /not a CPU list: "0-"/);
  assert.throws(() => parseCpuList("3-1"), /runs backwards/);
  assert.equal(cpuListText([1, 2, 5]), "1,2,5");
});

Deno.test("allowedCpus: the Cpus_allowed_list line of /proc/<pid>/status", () => {
  const status = "Name:\tdeno\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n";
  assert.deepEqual(allowedCpus(status), [0, 1]);
  assert.throws(() => allowedCpus("Name:\tdeno\n"), /no Cpus_allowed_list/);
  // The real file parses, and names at least one CPU.
  assert.ok(allowedCpus(Deno.readTextFileSync("/proc/self/status")).length >= 1);
});

Deno.test("planPinning: the proxy gets the upper half, the load the rest", () => {
  assert.deepEqual(planPinning([0, 1], TASKSET), { taskset: TASKSET, load: [0], proxy: [1] });
  assert.deepEqual(planPinning([0, 1, 2], TASKSET), {
    taskset: TASKSET,
    load: [0, 1],
    proxy: [2],
  });
  assert.deepEqual(planPinning([2, 3, 6, 7], TASKSET), {
    taskset: TASKSET,
    load: [2, 3],
    proxy: [6, 7],
  });
});

Deno.test("planPinning: says why not without taskset or with one CPU", () => {
  assert.equal(
    planPinning([0, 1], undefined),
    "taskset is not installed (apt-get install util-linux)",
  );
  assert.match(planPinning([3], TASKSET) as string, /may use 1 CPU\(s\); pinning needs 2/);
  assert.match(planPinning([], TASKSET) as string, /may use 0 CPU/);
});

Deno.test("pinned and pinProcessArgv: taskset command lines per side", () => {
  const plan: PinPlan = { taskset: TASKSET, load: [0], proxy: [1, 2] };
  assert.deepEqual(pinned(plan, "proxy", ["nginx", "-p", "/tmp/x"]), [
    TASKSET,
    "-c",
    "1,2",
    "nginx",
    "-p",
    "/tmp/x",
  ]);
  // An empty argv gives the prefix alone, for the load generators.
  assert.deepEqual(pinned(plan, "load", []), [TASKSET, "-c", "0"]);
  // No plan: unchanged (a copy).
  const argv = ["wrk", "-t1"];
  assert.deepEqual(pinned(undefined, "load", argv), argv);
  assert.notEqual(pinned(undefined, "load", argv), argv);
  assert.deepEqual(pinProcessArgv(plan, "load", 4242), [TASKSET, "-a", "-p", "-c", "0", "4242"]);
  assert.equal(
    describePin(plan),
    "pinned with taskset: the proxy on CPUs 1,2; wrk, the backends and the benchmark on CPU 0",
  );
});

Deno.test("pinned: taskset really runs the command on the CPU given", {
  ignore: !installedTaskset,
}, async () => {
  const cpu = allowedCpus(Deno.readTextFileSync("/proc/self/status")).at(-1)!;
  const plan: PinPlan = { taskset: installedTaskset!, load: [cpu], proxy: [cpu] };
  const [cmd, ...args] = pinned(plan, "proxy", ["grep", "Cpus_allowed_list", "/proc/self/status"]);
  const out = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
  assert.equal(out.code, 0);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), `Cpus_allowed_list:\t${cpu}`);
});

// /proc/net/tcp as Linux prints it (header, a LISTEN socket on 0.0.0.0:2024, two
// reuseport listeners on 127.0.0.1:46001, a connection from that port).
const PROC_NET_TCP =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 639 1 000000006fec782e 100 0 0 10 0
   1: 0100007F:B3B1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1 0000000063e527ce 100 0 0 10 0
   2: 0100007F:B3B1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7002 1 00000000c345df21 100 0 0 10 0
   3: 0100007F:B3B1 0100007F:D8CE 01 00000000:00000000 00:00000000 00000000     0        0 7003 1 000000002d568eb5 20 4 30 10 -1
`;

Deno.test("listenerCount: LISTEN sockets on the port, connections not counted", () => {
  assert.equal(listenerCount(PROC_NET_TCP, 46001), 2);
  assert.equal(listenerCount(PROC_NET_TCP, 2024), 1);
  assert.equal(listenerCount(PROC_NET_TCP, 55246), 0);
  assert.equal(listenerCount("", 80), 0);
  // tcp6 addresses are 32 hex digits.
  const v6 =
    "   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A " +
    "00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n";
  assert.equal(listenerCount(v6, 80), 1);
});

Deno.test("listeners: two reusePort listeners on one port are two sockets", () => {
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
  const { port } = first.addr as Deno.NetAddr;
  try {
    assert.equal(listeners(port), 1);
    const second = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
    try {
      assert.equal(listeners(port), 2);
    } finally {
      second.close();
    }
  } finally {
    first.close();
  }
});

if (!installedTaskset) {
  console.log("bench_pinning_test: taskset not installed: the real run skipped");
}
