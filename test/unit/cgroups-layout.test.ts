import { describe, expect, test } from "bun:test";
import { cgroupPathsFor, cgroupsOf } from "../../src/cgroups/driver";
import { cgroupLayout, v1Hierarchies } from "../../src/cgroups/layout";
import { planMounts } from "../../src/plan/mounts";
import { containerCgroupPath } from "../../src/cgroups/path";

const line = (id: number, point: string, fstype: string, opts: string) => `${id} 1 0:${id} / ${point} rw,relatime shared:${id} - ${fstype} ${fstype === "cgroup2" ? "cgroup2" : "cgroup"} ${opts}`;

const HYBRID = [
  line(30, "/sys/fs/cgroup", "tmpfs", "rw,mode=755"),
  line(31, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
  line(32, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
  line(33, "/sys/fs/cgroup/systemd", "cgroup", "rw,xattr,name=systemd"),
  line(34, "/sys/fs/cgroup/unified", "cgroup2", "rw,nsdelegate"),
  line(35, "/sys/fs/cgroup/odd", "cgroup", "rw,name=odd"),
].join("\n");

describe("cgroup layout", () => {
  test("a pure v2 host", () => {
    expect(cgroupLayout(line(30, "/sys/fs/cgroup", "cgroup2", "rw,nsdelegate"))).toEqual({ mode: "unified", unified: "/sys/fs/cgroup", v1: {} });
  });
  test("a hybrid host: v1 controllers (co-mounted ones share a mount), name=systemd, unified; other named hierarchies ignored", () => {
    expect(cgroupLayout(HYBRID)).toEqual({
      mode: "hybrid",
      unified: "/sys/fs/cgroup/unified",
      v1: { cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct", memory: "/sys/fs/cgroup/memory", "name=systemd": "/sys/fs/cgroup/systemd" },
    });
  });
  test("a legacy host and no cgroups at all", () => {
    expect(cgroupLayout(line(32, "/sys/fs/cgroup/memory", "cgroup", "rw,memory")).mode).toBe("legacy");
    expect(() => cgroupLayout(line(30, "/sys/fs/cgroup", "tmpfs", "rw"))).toThrow("no cgroup hierarchy");
  });
  test("paths per hierarchy; a co-mounted hierarchy is one directory; v1 joins through tasks", () => {
    const p = cgroupPathsFor(cgroupLayout(HYBRID), "a/b");
    expect(p.cgroupDir).toBe("/sys/fs/cgroup/unified/a/b");
    const cg = cgroupsOf(p);
    expect(cg.dirs()).toEqual(["/sys/fs/cgroup/cpu,cpuacct/a/b", "/sys/fs/cgroup/memory/a/b", "/sys/fs/cgroup/systemd/a/b", "/sys/fs/cgroup/unified/a/b"]);
    expect(cg.joinFiles()).toEqual(["/sys/fs/cgroup/cpu,cpuacct/a/b/tasks", "/sys/fs/cgroup/memory/a/b/tasks", "/sys/fs/cgroup/systemd/a/b/tasks"]);
    expect(cgroupsOf(cgroupPathsFor({ mode: "unified", unified: "/sys/fs/cgroup", v1: {} }, "x")).joinFiles()).toEqual([]);
  });
});

describe("cgroupsPath", () => {
  test("default, absolute, relative", () => {
    expect(containerCgroupPath(undefined, "c1")).toBe("c1");
    expect(containerCgroupPath("/a//b/./c", "c1")).toBe("a/b/c");
    expect(containerCgroupPath("a/b", "c1")).toBe("a/b");
  });
  test("refused: .., the root, a systemd slice path", () => {
    expect(() => containerCgroupPath("/a/../../etc", "c")).toThrow('linux.cgroupsPath: "/a/../../etc": ".." is not allowed');
    expect(() => containerCgroupPath("/", "c")).toThrow("cannot be the cgroup root");
    expect(() => containerCgroupPath("system.slice:runts:c", "c")).toThrow("systemd slice path");
  });
});

describe("a cgroup mount on a v1 host", () => {
  const hierarchies = v1Hierarchies(cgroupLayout(HYBRID), "c1");
  const mount = [{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "ro"] }];
  const facts = { kind: () => "dir" as const, lastCap: () => 40, exists: () => true, readInRoot: () => undefined, userNamespaceMaps: () => undefined };
  const plan = (cgroupns: boolean) =>
    planMounts(mount, { bundle: "/b", facts, hasNamespace: (t) => cgroupns && t === "cgroup", cgroupDir: "/sys/fs/cgroup/unified/c1", cgroupV1: hierarchies });
  test("the hierarchies: a co-mounted one once, with its controllers", () => {
    expect(hierarchies).toEqual([
      { name: "cpu,cpuacct", controllers: "cpu,cpuacct", hostDir: "/sys/fs/cgroup/cpu,cpuacct/c1" },
      { name: "memory", controllers: "memory", hostDir: "/sys/fs/cgroup/memory/c1" },
      { name: "systemd", controllers: "name=systemd", hostDir: "/sys/fs/cgroup/systemd/c1" },
    ]);
  });
  test("a tmpfs, the container's cgroups bound read-only, links for co-mounted controllers; the tmpfs read-only last", () => {
    const p = plan(false);
    const ops = p.ops.map((o) => `${o.op} ${o.args.filter((a) => typeof a === "string").join(" ")}`);
    expect(ops).toEqual([
      "MOUNT tmpfs /sys/fs/cgroup tmpfs mode=755",
      "BIND /sys/fs/cgroup/cpu,cpuacct/c1 /sys/fs/cgroup/cpu,cpuacct",
      "SETATTR /sys/fs/cgroup/cpu,cpuacct",
      "SYMLINK cpu,cpuacct /sys/fs/cgroup/cpu",
      "SYMLINK cpu,cpuacct /sys/fs/cgroup/cpuacct",
      "BIND /sys/fs/cgroup/memory/c1 /sys/fs/cgroup/memory",
      "SETATTR /sys/fs/cgroup/memory",
      "BIND /sys/fs/cgroup/systemd/c1 /sys/fs/cgroup/systemd",
      "SETATTR /sys/fs/cgroup/systemd",
    ]);
    expect(p.final.map((o) => o.args[0])).toEqual(["/sys/fs/cgroup"]);
  });
  test("in a cgroup namespace each hierarchy is mounted", () => {
    const mounts = plan(true).ops.filter((o) => o.op === "MOUNT").map((o) => `${o.args[1]} ${o.args[2]} ${o.args[4]}`);
    expect(mounts).toEqual(["/sys/fs/cgroup tmpfs mode=755", "/sys/fs/cgroup/cpu,cpuacct cgroup cpu,cpuacct", "/sys/fs/cgroup/memory cgroup memory", "/sys/fs/cgroup/systemd cgroup name=systemd"]);
  });
});
