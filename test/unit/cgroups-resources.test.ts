import { describe, expect, test } from "bun:test";
import { cpuWeight, ioWeight, planResources, swapMax, v1Writes, v2Writes } from "../../src/cgroups/resources";

const none = () => false;
const files = (ws: { file: string; value: string }[]) => ws.map((w) => `${w.file}=${w.value}`);

describe("resource conversions (runc's)", () => {
  test("cpu.shares -> cpu.weight: current runc's formula (1024 -> 100), clamped", () => {
    expect([2, 512, 1024, 2000, 262144, 1_000_000].map(cpuWeight)).toEqual([1, 59, 100, 170, 10000, 10000]);
  });
  test("memory.swap is memory+swap: v2's memory.swap.max is the difference", () => {
    expect(swapMax(1 << 20, 3 << 20)).toBe(String(2 << 20));
    expect(swapMax(1 << 20, -1)).toBe("max");
    expect(swapMax(-1, undefined)).toBe("max");
    expect(swapMax(1 << 20, undefined)).toBeUndefined();
    expect(() => swapMax(undefined, 1 << 20)).toThrow("linux.resources.memory.swap: needs memory.limit");
  });
  test("blkio weight -> io.weight", () => {
    expect([10, 100, 500, 1000].map(ioWeight)).toEqual([1, 910, 4950, 10000]);
  });
});

describe("v1 and v2 files", () => {
  const plan = planResources({
    memory: { limit: 1 << 24, reservation: 1 << 23, swap: 1 << 25 },
    cpu: { shares: 1024, quota: 10000, period: 100000, cpus: "0-1" },
    pids: { limit: -1 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }] },
    hugepageLimits: [{ pageSize: "2MB", limit: 1 << 21 }],
  });
  test("v1: runc's fs names and order (period before quota, limit before memsw)", () => {
    expect(files(v1Writes(plan, none))).toEqual([
      "memory.limit_in_bytes=16777216",
      "memory.memsw.limit_in_bytes=33554432",
      "memory.soft_limit_in_bytes=8388608",
      "cpu.shares=1024",
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=10000",
      "cpuset.cpus=0-1",
      "pids.max=max",
      "blkio.bfq.weight=500",
      "blkio.throttle.read_bps_device=8:0 100",
      "hugetlb.2MB.limit_in_bytes=2097152",
    ]);
    expect(v1Writes(plan, (f) => f === "blkio.weight").find((w) => w.controller === "blkio")!.file).toBe("blkio.weight");
  });
  test("v2: fs2 names and converted values, each naming its field", () => {
    const ws = v2Writes(plan, none);
    expect(files(ws)).toEqual([
      "memory.swap.max=16777216",
      "memory.max=16777216",
      "memory.low=8388608",
      "cpu.weight=100",
      "cpu.max=10000 100000",
      "cpuset.cpus=0-1",
      "pids.max=max",
      "io.weight=4950",
      "io.max=8:0 rbps=100",
      "hugetlb.2MB.max=2097152",
    ]);
    expect(ws[4]!.field).toBe("linux.resources.cpu.quota");
    expect(files(v2Writes(planResources({ cpu: { period: 50000 } }), none))).toEqual(["cpu.max=max 50000"]);
    expect(files(v2Writes(planResources({ unified: { "memory.high": "1000000" } }), none))).toEqual(["memory.high=1000000"]);
  });
  test("v2 refuses what it cannot express; v1 refuses unified", () => {
    const v2 = (r: object) => () => v2Writes(planResources(r), none);
    expect(v2({ memory: { swappiness: 10 } })).toThrow("linux.resources.memory.swappiness");
    expect(v2({ memory: { disableOOMKiller: true } })).toThrow("linux.resources.memory.disableOOMKiller");
    expect(v2({ cpu: { realtimeRuntime: 1000 } })).toThrow("linux.resources.cpu.realtimeRuntime: realtime");
    expect(v2({ network: { classID: 1 } })).toThrow("linux.resources.network: net_cls");
    expect(v2({ blockIO: { leafWeight: 100 } })).toThrow("linux.resources.blockIO.leafWeight");
    expect(() => v1Writes(planResources({ unified: { "pids.max": "3" } }), none)).toThrow("linux.resources.unified: needs cgroup v2");
  });
  test("bad values are refused naming the field", () => {
    expect(() => planResources({ memory: { limit: -2 } })).toThrow("linux.resources.memory.limit: -2 is out of range");
    expect(() => planResources({ cpu: { cpus: "a" } })).toThrow("linux.resources.cpu.cpus");
    expect(() => planResources({ blockIO: { weight: 5 } })).toThrow("linux.resources.blockIO: weight 5");
    expect(() => planResources({ unified: { "cgroup.procs": "1" } })).toThrow('linux.resources.unified["cgroup.procs"]: runts manages');
    expect(() => planResources({ unified: { "../x.y": "1" } })).toThrow("not a cgroup interface file name");
    expect(() => planResources({ unified: { "memory.max": "1\n2" } })).toThrow("one line");
    expect(() => planResources({ network: { priorities: [{ name: "../eth0", priority: 1 }] } })).toThrow("not an interface name");
    expect(planResources({ pids: { limit: 0 } }).pids).toBeUndefined();
    expect(() => planResources({ cpu: { sharez: 2 } } as object)).toThrow("linux.resources: cpu.sharez is not a resource runts knows");
    expect(() => planResources({ bogus: {} } as object)).toThrow('linux.resources: "bogus" is not a resource runts knows');
  });
});
