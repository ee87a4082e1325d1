import { describe, expect, test } from "bun:test";
import { durationMs } from "../../src/cli/events";
import { ramInBytes } from "../../src/cli/update";
import { cpuList, keyValues, oomKills, statsJson, v2Stats } from "../../src/cgroups/stats";
import { mergeResources } from "../../src/container/update";

describe("events and update parsing", () => {
  test("Go durations", () => {
    expect(["5s", "200ms", "1m30s", "1.5s", "1h"].map(durationMs)).toEqual([5000, 200, 90000, 1500, 3_600_000]);
    expect(() => durationMs("5")).toThrow("--interval");
    expect(() => durationMs("0s")).toThrow("positive");
  });
  test("runc's sizes", () => {
    expect(["1024", "16m", "1g", "512KiB", "1.5k", "-1"].map((s) => ramInBytes("memory", s))).toEqual([1024, 16 << 20, 1 << 30, 512 << 10, 1536, -1]);
    expect(() => ramInBytes("memory", "12q")).toThrow('--memory: "12q" is not a size');
  });
  test("update merges one level deep; arrays replace", () => {
    expect(mergeResources({ memory: { limit: 1, swap: 2 }, devices: [1] }, { memory: { limit: 3 }, devices: [2], pids: { limit: 4 } })).toEqual({ memory: { limit: 3, swap: 2 }, devices: [2], pids: { limit: 4 } });
  });
});

describe("stats", () => {
  test("key/value files sorted as Go maps, exact beyond 2^53, cpu lists", () => {
    expect(Object.keys(keyValues("b 1\na 2\n"))).toEqual(["a", "b"]);
    expect(statsJson(keyValues("limit 9223372036854771712\nmax max"))).toBe('{"limit":9223372036854771712,"max":18446744073709551615}');
    expect(cpuList("0-2,5\n")).toEqual([0, 1, 2, 5]);
  });
  test("v2 stats from cgroup files (runc's fs2 shape) and OOM kills", () => {
    const files: Record<string, string> = {
      "/cg/cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
      "/cg/memory.current": "4096\n",
      "/cg/memory.max": "max\n",
      "/cg/memory.swap.current": "0\n",
      "/cg/memory.swap.max": "max\n",
      "/cg/memory.stat": "file 8192\nanon 4096\n",
      "/cg/memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n",
      "/cg/pids.current": "2\n",
      "/cg/pids.max": "10\n",
      "/cg/cpuset.cpus.effective": "0-1\n",
      "/cg/cpuset.mems.effective": "0\n",
    };
    const read = (p: string) => files[p];
    const s = v2Stats({ cgroupDir: "/cg" }, read) as any;
    expect(s.cpu).toEqual({ usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: {} });
    expect(s.memory.cache).toBe(8192);
    expect(s.memory.usage).toEqual({ limit: 2n ** 64n - 1n, usage: 4096, failcnt: 3 });
    expect(s.pids).toEqual({ current: 2, limit: 10 });
    expect(s.cpuset).toEqual({ cpus: [0, 1], mems: [0] });
    expect(oomKills({ cgroupDir: "/cg" }, read)).toBe(2);
  });
});
