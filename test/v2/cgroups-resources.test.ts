// linux.resources and device control on a pure cgroup v2 kernel (the qemu guest): the v2
// driver's files (runc's fs2 conversions), their effect, the device BPF program, refusals.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeBundle, type Bundle } from "../lib/rootfs.ts";
import { containerState, forceCleanup, leftovers, requireRoot, ROOTS, runtime, RUNTS, spawnRuntime, uniqueId, waitFor } from "../lib/harness.ts";

const root = ROOTS.runts;
const cleanups: (() => void)[] = [];
const runts = (args: string[], timeoutMs = 120_000) => runtime(RUNTS, ["--root", root, ...args], { timeoutMs });
const cg = (id: string, file: string) => readFileSync(`/sys/fs/cgroup/${id}/${file}`, "utf8").trim();

function bundle(args: string[], resources: unknown, tweak?: (c: any) => void): { id: string; b: Bundle } {
  const id = uniqueId("v2r");
  const b = makeBundle({
    config: (c) => {
      c.process.args = args;
      c.linux.resources = resources;
      tweak?.(c);
    },
  });
  cleanups.push(() => b.cleanup(), () => forceCleanup(RUNTS, root, id));
  return { id, b };
}

/** The guest's /tmp (where bundles are) is nodev: device nodes are made in the container's /dev. */
const withMknod = (c: any) => {
  for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("CAP_MKNOD");
};

const CANARY = "CANARY-0123456789";
let loopDir = "";
let loop = "";
let minor = 0;

beforeAll(() => {
  requireRoot();
  if (process.env.RUN_IN_VM !== "1") throw new Error("test/v2 runs inside the pure cgroup v2 guest (test/run.sh starts it)");
  expect(readFileSync("/proc/self/mountinfo", "utf8")).toMatch(/ \/sys\/fs\/cgroup [^\n]* - cgroup2 /);
  try {
    execFileSync("modprobe", ["loop"]);
  } catch {}
  loopDir = mkdtempSync("/tmp/runts-v2-devices-");
  writeFileSync(path.join(loopDir, "canary.img"), CANARY.padEnd(1 << 20, "\0"));
  loop = execFileSync("losetup", ["--find", "--show", path.join(loopDir, "canary.img")], { encoding: "utf8" }).trim();
  minor = Number(BigInt(statSync(loop, { bigint: true }).rdev) & 0xffn);
});
afterAll(() => {
  if (loop) execFileSync("losetup", ["-d", loop]);
  if (loopDir) rmSync(loopDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) {
    try {
      f();
    } catch {}
  }
});

describe("device BPF program (cgroup v2)", () => {
  test("a block node made with CAP_MKNOD cannot be opened; /dev/null works", () => {
    const script = `mknod /dev/l b 7 ${minor} && echo made; head -c 6 /dev/l 2>&1; echo mread=$?; head -c 1 /dev/null && echo null-ok; head -c 3 /dev/zero | wc -c`;
    const { id, b } = bundle(["/bin/sh", "-c", script], undefined, withMknod);
    const r = runts(["run", "-b", b.dir, id]);
    expect(r.stdout).toContain("made");
    expect(r.stdout).toContain("mread=1");
    expect(r.stdout).toContain("Operation not permitted");
    expect(r.stdout).toContain("null-ok");
    expect(r.stdout).toMatch(/\b3\n/);
    expect(r.stdout).not.toContain("CANARY");
  });

  test("a config rule allowing the device read-only: readable, not writable", () => {
    const script = `mknod /dev/l b 7 ${minor}; head -c 6 /dev/l 2>&1; echo; (echo x > /dev/l) 2>/dev/null; echo write=$?`;
    const { id, b } = bundle(["/bin/sh", "-c", script], { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor, access: "r" }] }, withMknod);
    const r = runts(["run", "-b", b.dir, id]);
    expect(r.stdout).toContain("CANARY");
    expect(r.stdout).toContain("write=1");
  });
});

describe("linux.resources (cgroup v2)", () => {
  test("files with runc's conversions; controllers enabled in the parent", () => {
    const { id, b } = bundle(["/bin/probe", "sleep", "60"], {
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
      cpu: { shares: 1024, quota: 20000, period: 100000, cpus: "0", mems: "0" },
      pids: { limit: 40 },
      unified: { "memory.high": String(60 << 20) },
    });
    expect(runts(["create", "-b", b.dir, id]).stderr).toBe("");
    expect(cg(id, "memory.max")).toBe(String(64 << 20));
    expect(cg(id, "memory.low")).toBe(String(32 << 20));
    if (existsSync(`/sys/fs/cgroup/${id}/memory.swap.max`)) expect(cg(id, "memory.swap.max")).toBe(String(32 << 20));
    expect(cg(id, "memory.high")).toBe(String(60 << 20));
    expect(cg(id, "cpu.weight")).toBe("100");
    expect(cg(id, "cpu.max")).toBe("20000 100000");
    expect(cg(id, "cpuset.cpus")).toBe("0");
    expect(cg(id, "pids.max")).toBe("40");
    expect(readFileSync("/sys/fs/cgroup/cgroup.subtree_control", "utf8")).toMatch(/memory/);
  });

  test("past memory.max the process is OOM-killed", () => {
    const { id, b } = bundle(["/bin/sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived"], { memory: { limit: 16 << 20, swap: 16 << 20 } });
    const r = runts(["run", "-b", b.dir, id]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(137);
  });

  test("pids.max stops a fork bomb", async () => {
    const { id, b } = bundle(["/bin/sh", "-c", "for i in $(seq 30); do sleep 20 & done 2>/dev/null; wait"], { pids: { limit: 6 } });
    expect(runts(["run", "-d", "-b", b.dir, id]).code).toBe(0);
    await waitFor("forks refused", () => /max [1-9]/.test(cg(id, "pids.events")), 30_000);
    expect(Number(cg(id, "pids.current"))).toBeLessThanOrEqual(6);
  });

  test("the 512 KiB memory floor: /bin/true runs", () => {
    const { id, b } = bundle(["/bin/true"], { memory: { limit: 512 << 10, swap: 512 << 10 } });
    const r = runts(["run", "-b", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("update: new limits read back, the device program replaced (the new rule takes effect)", async () => {
    const script = `mknod /dev/l b 7 ${minor}; while [ ! -e /tmp/go ]; do sleep 0.05; done; head -c 6 /dev/l > /tmp/result 2>&1; echo done >> /tmp/result; sleep 60`;
    const { id, b } = bundle(["/bin/sh", "-c", script], { pids: { limit: 20 } }, (c) => {
      c.root.readonly = false;
      withMknod(c);
    });
    expect(runts(["run", "-d", "-b", b.dir, id]).code).toBe(0);
    expect(runts(["update", "--pids-limit", "9", "--memory", "32m", "--cpu-share", "2000", id]).code).toBe(0);
    expect(cg(id, "pids.max")).toBe("9");
    expect(cg(id, "memory.max")).toBe(String(32 << 20));
    expect(cg(id, "cpu.weight")).toBe("170");
    const devices = JSON.stringify({ devices: [{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 7, minor, access: "r" }] });
    const res = runtime(RUNTS, ["--root", root, "update", "-r", "-", id], { input: devices, timeoutMs: 120_000 });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    writeFileSync(path.join(b.rootfs, "tmp/go"), "");
    const result = await waitFor("the read", () => {
      const t = existsSync(path.join(b.rootfs, "tmp/result")) ? readFileSync(path.join(b.rootfs, "tmp/result"), "utf8") : "";
      return t.includes("done") ? t : null;
    }, 60_000);
    expect(result).toContain("CANARY");
  });

  test("events: --stats in runc's shape from the v2 files; streaming reports the OOM kill and ends with the container", async () => {
    const script = "while [ ! -e /tmp/go ]; do sleep 0.05; done; x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived";
    const { id, b } = bundle(["/bin/sh", "-c", script], { memory: { limit: 16 << 20, swap: 16 << 20 }, pids: { limit: 30 } }, (c) => (c.root.readonly = false));
    expect(runts(["run", "-d", "-b", b.dir, id]).code).toBe(0);
    const once = runts(["events", "--stats", id]);
    expect(once.code).toBe(0);
    const ev = JSON.parse(once.stdout);
    expect(ev.type).toBe("stats");
    expect(ev.data.memory.usage.limit).toBe(16 << 20);
    expect(ev.data.pids.limit).toBe(30);
    expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    expect(Object.keys(ev.data)).toEqual(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
    const stream = spawnRuntime(RUNTS, ["--root", root, "events", "--interval", "1s", id], { timeoutMs: 240_000 });
    cleanups.push(() => stream.signal("SIGKILL"));
    await waitFor("a stats event", () => stream.stdoutSoFar().includes('"stats"'), 120_000);
    writeFileSync(path.join(b.rootfs, "tmp/go"), "");
    const res = await stream.result;
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "oom")).toEqual([{ type: "oom", id }]);
  });

  test("refused, leaving nothing: v1-only fields, unknown unified keys, a cgroupsPath with ..", () => {
    const cases: [unknown, string, ((c: any) => void)?][] = [
      [{ network: { classID: 1 } }, "linux.resources.network: net_cls and net_prio are cgroup v1 controllers"],
      [{ memory: { swappiness: 10 } }, "linux.resources.memory.swappiness"],
      [{ cpu: { realtimeRuntime: 100 } }, "linux.resources.cpu.realtimeRuntime"],
      [{ unified: { "memory.nonesuch": "1" } }, 'linux.resources.unified["memory.nonesuch"]'],
      [{ unified: { "cgroup.procs": "1" } }, 'linux.resources.unified["cgroup.procs"]: runts manages this file itself'],
      [{ rdma: { mlx5_0: { hcaHandles: 1 } } }, "linux.resources.rdma.mlx5_0"],
      [undefined, "linux.cgroupsPath", (c) => (c.linux.cgroupsPath = "/x/../../y")],
    ];
    for (const [resources, message, tweak] of cases) {
      const { id, b } = bundle(["/bin/true"], resources, tweak);
      const r = runts(["create", "-b", b.dir, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(leftovers(id, root)).toEqual([]);
      expect(containerState(RUNTS, root, id)).toBeNull();
    }
  });
});
