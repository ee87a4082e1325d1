/**
 * linux.resources on this hybrid host (the v1 driver): the files runts writes are runc's
 * for the same config, and the limits hold by effect (OOM kill, a fork bomb stopped, a cpu
 * quota, a cpuset). A resource the host cannot provide and bad values fail create with one
 * line naming the field, leaving nothing.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BOTH, containerState, leftovers, probeInfo, RT_RUNC, RT_RUNTS, type Runtime, runtime } from "../lib/harness";
import { testScope } from "../lib/scope";

const scope = testScope("res");

function container(r: Runtime, args: string[], resources: unknown, tweak?: (c: any) => void) {
  const id = scope.newId(r);
  const b = scope.newBundle({
    rootfs: "shared",
    config: (c) => {
      c.process.args = args;
      c.linux.cgroupsPath = `/${id}`;
      c.linux.resources = resources;
      tweak?.(c);
    },
  });
  return { id, b, rt: (args2: string[], timeoutMs?: number) => runtime(r.bin, ["--root", r.root, ...args2], { timeoutMs }) };
}

const cg = (ctrl: string, id: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctrl}/${id}/${file}`, "utf8").trim();

/** A typical podman resource set, plus the rest of what v1 has here. */
const PODMAN = {
  devices: [{ allow: false, access: "rwm" }],
  memory: { limit: 268435456, reservation: 134217728, swap: 536870912, swappiness: 30, disableOOMKiller: false },
  cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, cpus: "0-1", mems: "0", idle: 0 },
  pids: { limit: 2048 },
  blockIO: {
    weight: 300,
    throttleReadBpsDevice: [{ major: 7, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 7, minor: 0, rate: 2097152 }],
    throttleReadIOPSDevice: [{ major: 7, minor: 0, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 7, minor: 0, rate: 200 }],
  },
};

const FILES: [string, string][] = [
  ["memory", "memory.limit_in_bytes"],
  ["memory", "memory.soft_limit_in_bytes"],
  ["memory", "memory.memsw.limit_in_bytes"],
  ["memory", "memory.swappiness"],
  ["memory", "memory.oom_control"],
  ["cpu", "cpu.shares"],
  ["cpu", "cpu.cfs_quota_us"],
  ["cpu", "cpu.cfs_period_us"],
  ["cpu", "cpu.cfs_burst_us"],
  ["cpu", "cpu.idle"],
  ["cpuset", "cpuset.cpus"],
  ["cpuset", "cpuset.mems"],
  ["pids", "pids.max"],
  ["blkio", "blkio.bfq.weight"],
  ["blkio", "blkio.throttle.read_bps_device"],
  ["blkio", "blkio.throttle.write_bps_device"],
  ["blkio", "blkio.throttle.read_iops_device"],
  ["blkio", "blkio.throttle.write_iops_device"],
];

describe("linux.resources on cgroup v1 (hybrid host)", () => {
  test("a typical podman resource set: every file as runc writes it", () => {
    const seen: Record<string, Record<string, string>> = {};
    for (const r of BOTH) {
      const c = container(r, ["/bin/probe", "sleep", "60"], PODMAN);
      const res = c.rt(["create", "-b", c.b.dir, c.id]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      seen[r.name] = Object.fromEntries(FILES.map(([ctrl, f]) => [f, cg(ctrl, c.id, f)]));
    }
    // runc 1.1.5 ignores cpu.burst (runc 1.2+ writes it, as runts does).
    expect(seen.runc!["cpu.cfs_burst_us"]).toBe("0");
    expect(seen.runts!["cpu.cfs_burst_us"]).toBe("1000");
    expect({ ...seen.runts, "cpu.cfs_burst_us": "" }).toEqual({ ...seen.runc, "cpu.cfs_burst_us": "" });
    expect(seen.runts!["memory.limit_in_bytes"]).toBe("268435456");
    expect(seen.runts!["blkio.throttle.read_bps_device"]).toBe("7:0 1048576");
  });

  test("kernel and kernelTCP are accepted and ignored; -1 means unlimited", () => {
    const c = container(RT_RUNTS, ["/bin/probe", "sleep", "60"], { memory: { limit: -1, kernel: 1 << 24, kernelTCP: 1 << 24 }, pids: { limit: -1 } });
    expect(c.rt(["create", "-b", c.b.dir, c.id]).code).toBe(0);
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe("9223372036854771712");
    expect(cg("memory", c.id, "memory.kmem.limit_in_bytes")).toBe("9223372036854771712");
    expect(cg("pids", c.id, "pids.max")).toBe("max");
  });

  test("past memory.limit the process is OOM-killed (as runc)", () => {
    for (const r of BOTH) {
      const c = container(r, ["/bin/sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived"], { memory: { limit: 16 << 20, swap: 16 << 20 } });
      const res = c.rt(["run", "-b", c.b.dir, c.id], 60_000);
      expect([r.name, res.stdout]).toEqual([r.name, ""]);
      expect([r.name, res.code]).toEqual([r.name, 137]);
    }
  });

  test("pids.limit stops a fork bomb", () => {
    const c = container(RT_RUNTS, ["/bin/sh", "-c", "n=0; for i in $(seq 30); do sleep 3 & n=$((n+1)); done 2>/dev/null; ps -o pid= 2>/dev/null | wc -l; cat /proc/self/status >/dev/null; wait"], { pids: { limit: 8 } });
    const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "-d", "-b", c.b.dir, c.id]);
    expect(r.code).toBe(0);
    Bun.sleepSync(1000);
    expect(Number(cg("pids", c.id, "pids.current"))).toBeLessThanOrEqual(8);
    expect(Number(cg("pids", c.id, "pids.events").split(" ")[1])).toBeGreaterThan(0); // max N: forks refused
  });

  test("a 10% cpu quota holds a busy loop near 10%", () => {
    const c = container(RT_RUNTS, ["/bin/sh", "-c", "while :; do :; done"], { cpu: { quota: 10000, period: 100000 } });
    expect(c.rt(["run", "-d", "-b", c.b.dir, c.id]).code).toBe(0);
    const u0 = Number(cg("cpuacct", c.id, "cpuacct.usage"));
    const t0 = performance.now();
    Bun.sleepSync(3000);
    const share = (Number(cg("cpuacct", c.id, "cpuacct.usage")) - u0) / 1e6 / (performance.now() - t0);
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.16);
  });

  test("cpu.cpus confines the container to those cpus", () => {
    const c = container(RT_RUNTS, ["/bin/probe", "info"], { cpu: { cpus: "1" } });
    const r = c.rt(["run", "-b", c.b.dir, c.id]);
    expect(r.stderr).toBe("");
    expect(probeInfo(r.stdout).cpus).toBe("1");
  });

  test("the 512 KiB memory floor: only runts-init is in the cgroup before exec, and /bin/true runs (runc 1.1.5 fails)", () => {
    const c = container(RT_RUNTS, ["/bin/true"], { memory: { limit: 512 << 10, swap: 512 << 10 } });
    expect(c.rt(["create", "-b", c.b.dir, c.id]).code).toBe(0);
    const procs = cg("memory", c.id, "cgroup.procs").split("\n");
    expect(procs).toEqual([String(containerState(RT_RUNTS.bin, RT_RUNTS.root, c.id)!.pid)]);
    expect(require("node:fs").readlinkSync(`/proc/${procs[0]}/exe`)).toMatch(/^\/memfd:runts-init/);
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe(String(512 << 10));
    expect(c.rt(["start", c.id]).code).toBe(0);
    const r = container(RT_RUNC, ["/bin/true"], { memory: { limit: 512 << 10, swap: 512 << 10 } });
    const rr = r.rt(["run", "-b", r.b.dir, r.id]);
    expect(rr.code).not.toBe(0);
    expect(rr.stderr).toContain("unable to set memory limit to 524288");
    const again = container(RT_RUNTS, ["/bin/true"], { memory: { limit: 512 << 10, swap: 512 << 10 } });
    const ra = again.rt(["run", "-b", again.b.dir, again.id]);
    expect(ra.stderr).toBe("");
    expect(ra.code).toBe(0);
  });

  const refused: [string, unknown, string][] = [
    ["a negative memory limit", { memory: { limit: -5 } }, "config.json: linux.resources.memory.limit: -5 is out of range"],
    ["swap below the limit", { memory: { limit: 1 << 24, swap: 1 << 20 } }, "linux.resources.memory.swap: 1048576 is below memory.limit"],
    ["an unparseable cpuset", { cpu: { cpus: "0-x" } }, 'linux.resources.cpu.cpus: "0-x" is not a list'],
    ["net_cls, which this host does not mount", { network: { classID: 0x100001 } }, "config.json: linux.resources.network.classID: apply: the net_cls cgroup controller is not mounted"],
    ["net_prio", { network: { priorities: [{ name: "eth0", priority: 3 }] } }, "linux.resources.network.priorities[0]: apply: the net_prio cgroup controller is not mounted"],
    ["hugetlb (not a v1 controller here)", { hugepageLimits: [{ pageSize: "2MB", limit: 1 << 21 }] }, "linux.resources.hugepageLimits[0]: apply: the hugetlb cgroup controller is not mounted"],
    ["rdma", { rdma: { mlx5_0: { hcaHandles: 3 } } }, "linux.resources.rdma.mlx5_0: apply: the rdma cgroup controller is not mounted"],
    ["unified keys on a v1 host", { unified: { "memory.high": "1000000" } }, "linux.resources.unified: needs cgroup v2"],
    ["a unified key with a path", { unified: { "../../cgroup.procs": "1" } }, "not a cgroup interface file name"],
    ["blkio leafWeight, which the kernel dropped", { blockIO: { leafWeight: 300 } }, "linux.resources.blockIO.leafWeight: apply"],
  ];
  for (const [what, resources, message] of refused) {
    test(`refused, leaving nothing: ${what}`, () => {
      const c = container(RT_RUNTS, ["/bin/true"], resources);
      const r = c.rt(["create", "-b", c.b.dir, c.id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(leftovers(c.id, RT_RUNTS.root)).toEqual([]);
    });
  }

  test("SCHED_FIFO without realtime time in the v1 cpu cgroup: refused naming the field; with realtimeRuntime it runs", () => {
    const fifo = (c: any) => (c.process.scheduler = { policy: "SCHED_FIFO", priority: 1 });
    const bad = container(RT_RUNTS, ["/bin/true"], undefined, fifo);
    const r = bad.rt(["create", "-b", bad.b.dir, bad.id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("config.json: process.scheduler: create");
    expect(r.stderr).toContain("set linux.resources.cpu.realtimeRuntime");
    expect(leftovers(bad.id, RT_RUNTS.root)).toEqual([]);
    const good = container(RT_RUNTS, ["/bin/true"], { cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } }, fifo);
    const g = good.rt(["run", "-b", good.b.dir, good.id]);
    expect(g.stderr).toBe("");
    expect(g.code).toBe(0);
  });

  test("runc refuses the controllers this host lacks too", () => {
    const c = container(RT_RUNC, ["/bin/true"], { network: { classID: 0x100001 } });
    expect(c.rt(["create", "-b", c.b.dir, c.id]).code).not.toBe(0);
    expect(containerState(RT_RUNC.bin, RT_RUNC.root, c.id)).toBeNull();
  });
});
