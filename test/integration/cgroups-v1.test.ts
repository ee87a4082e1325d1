/**
 * The v1/hybrid cgroup driver on this host: a cgroup in every v1 hierarchy runc uses plus
 * the unified one, the init placed in all of them before it runs, pause through the v1
 * freezer, kill --all and ps from the cgroup, delete removing every cgroup (also of a
 * paused container). runc is the oracle for where the cgroups go.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { BOTH, containerState, leftovers, probeInfo, RT_RUNTS, type Runtime, runtime, uniqueId, waitFor } from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("cgv1");
beforeAll(() => {
  if (!readFileSync("/proc/self/mountinfo", "utf8").includes(" /sys/fs/cgroup/freezer ")) throw new Error("this test needs the hybrid host (v1 freezer)");
});

const rt = (r: Runtime, args: string[]) => runtime(r.bin, ["--root", r.root, ...args]);

function started(r: Runtime, args: string[], cgroupsPath?: string): { id: string; pid: number; b: Bundle } {
  const id = scope.newId(r);
  const b = scope.newBundle({
    rootfs: "shared",
    config: (c) => {
      c.process.args = args;
      if (cgroupsPath) c.linux.cgroupsPath = cgroupsPath;
    },
  });
  const res = rt(r, ["run", "-d", "-b", b.dir, id]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return { id, pid: containerState(r.bin, r.root, id)!.pid as number, b };
}

/** /proc/PID/cgroup with the container's path replaced by <C>, and the machine's memory cgroup by <M>. */
function cgroupLines(pid: number, path: string): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.replace(/^(\d+:memory:)\/process_api\/[^/]+/, "$1").replace(path, "<C>"));
}

describe("cgroup v1 / hybrid driver", () => {
  test("the init is in a cgroup of every v1 hierarchy and the unified one, as with runc", () => {
    const seen: Record<string, string[]> = {};
    for (const r of BOTH) {
      const path = `/cgv1-${r.name}-${uniqueId("p")}`;
      const { pid } = started(r, ["/bin/probe", "sleep", "60"], path);
      seen[r.name] = cgroupLines(pid, path);
    }
    expect(seen.runts).toEqual(seen.runc!);
    expect(seen.runts).toContain("0::<C>");
    expect(seen.runts).toContain("6:freezer:<C>");
  });

  test("exec's process joins every v1 cgroup of the container too, as with runc", () => {
    const seen: Record<string, string[]> = {};
    for (const r of BOTH) {
      const path = `/cgv1-exec-${r.name}-${uniqueId("p")}`;
      const { id } = started(r, ["/bin/probe", "sleep", "60"], path);
      const e = runtime(r.bin, ["--root", r.root, "exec", id, "/bin/cat", "/proc/self/cgroup"]);
      expect(e.code).toBe(0);
      seen[r.name] = e.stdout.trim().split("\n").map((l) => l.replace(/^(\d+:memory:)\/process_api\/[^/]+/, "$1").replace(path, "<C>"));
    }
    expect(seen.runts).toEqual(seen.runc!);
    expect(seen.runts).toContain("4:memory:<C>");
  });

  test("the init is in its v1 cgroups from its first instruction (the memory cgroup counts it before exec)", () => {
    const { id, pid } = started(RT_RUNTS, ["/bin/probe", "sleep", "60"]);
    for (const ctrl of ["memory", "pids", "cpu", "devices", "freezer", "blkio", "cpuset"]) {
      expect(readFileSync(`/sys/fs/cgroup/${ctrl}/${id}/cgroup.procs`, "utf8").trim()).toBe(String(pid));
    }
  });

  test("pause freezes through the v1 freezer until FROZEN, resume thaws; kill --all and ps see every process", async () => {
    const { id } = started(RT_RUNTS, ["/bin/sh", "-c", "/bin/probe sleep 60 & /bin/probe sleep 60"]);
    const pids = await waitFor("two processes", () => {
      const list = JSON.parse(rt(RT_RUNTS, ["ps", "--format", "json", id]).stdout) as number[];
      return list.length === 2 ? list : null;
    });
    expect(rt(RT_RUNTS, ["pause", id]).code).toBe(0);
    expect(readFileSync(`/sys/fs/cgroup/freezer/${id}/freezer.state`, "utf8").trim()).toBe("FROZEN");
    expect(containerState(RT_RUNTS.bin, RT_RUNTS.root, id)!.status).toBe("paused");
    for (const p of pids) expect(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]![0]).toMatch(/[SD]/);
    expect(rt(RT_RUNTS, ["resume", id]).code).toBe(0);
    expect(readFileSync(`/sys/fs/cgroup/freezer/${id}/freezer.state`, "utf8").trim()).toBe("THAWED");
    expect(containerState(RT_RUNTS.bin, RT_RUNTS.root, id)!.status).toBe("running");
    expect(rt(RT_RUNTS, ["kill", "--all", id, "KILL"]).code).toBe(0);
    await waitFor("processes gone", () => pids.every((p) => !existsSync(`/proc/${p}/cmdline`) || readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z")));
  });

  test("delete --force of a paused container thaws, kills and removes every cgroup", () => {
    const { id } = started(RT_RUNTS, ["/bin/probe", "sleep", "60"]);
    expect(rt(RT_RUNTS, ["pause", id]).code).toBe(0);
    const r = rt(RT_RUNTS, ["delete", "--force", id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  });

  test("a nested cgroupsPath is created level by level (cpuset gets its parent's cpus and mems) and removed", () => {
    const parent = uniqueId("cgv1par");
    const { id, pid } = started(RT_RUNTS, ["/bin/probe", "sleep", "60"], `/${parent}/inner`);
    expect(readFileSync(`/sys/fs/cgroup/cpuset/${parent}/inner/cpuset.cpus`, "utf8").trim()).toBe(readFileSync("/sys/fs/cgroup/cpuset/cpuset.cpus", "utf8").trim());
    expect(readFileSync(`/sys/fs/cgroup/cpuset/${parent}/inner/cgroup.procs`, "utf8").trim()).toBe(String(pid));
    expect(rt(RT_RUNTS, ["delete", "--force", id]).code).toBe(0);
    expect(existsSync(`/sys/fs/cgroup/memory/${parent}/inner`)).toBe(false);
    for (const d of ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"]) {
      try {
        require("node:fs").rmdirSync(`/sys/fs/cgroup/${d}/${parent}`);
      } catch {}
    }
  });

  for (const cgroupns of [false, true]) {
    test(`a cgroup mount shows the container's cgroup in every v1 hierarchy${cgroupns ? " (cgroup namespace: mounted at its root)" : ""}, as with runc`, () => {
      const seen: Record<string, string[]> = {};
      for (const r of BOTH) {
        const id = scope.newId(r);
        const b = scope.newBundle({
          rootfs: "shared",
          config: (c) => {
            c.linux.cgroupsPath = `/${id}`;
            if (cgroupns) c.linux.namespaces.push({ type: "cgroup" });
          },
        });
        const res = runtime(r.bin, ["--root", r.root, "run", "-b", b.dir, id]);
        expect(res.code).toBe(0);
        const info = probeInfo(res.stdout);
        seen[r.name] = info.mounts
          .filter((m) => m.mountPoint.startsWith("/sys/fs/cgroup"))
          .map((m) => `${m.mountPoint} ${m.root.replace(id, "<C>")} ${m.fsType} ${m.superOptions}`);
      }
      expect(seen.runts).toEqual(seen.runc!);
      expect(seen.runts).toContain(`/sys/fs/cgroup/memory ${cgroupns ? "/" : "/<C>"} cgroup rw,memory`);
    });
  }

  test("a cgroupsPath with .. is refused and leaves nothing", () => {
    const id = scope.newId(RT_RUNTS);
    const b = scope.newBundle({ rootfs: "shared", config: (c) => (c.linux.cgroupsPath = `/a/../../${id}`) });
    const r = rt(RT_RUNTS, ["create", "-b", b.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('linux.cgroupsPath: "/a/../../');
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  });
});
