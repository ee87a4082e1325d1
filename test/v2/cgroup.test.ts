// cgroup v2 on a pure v2 kernel: run by test/run.sh inside shared/vm/run-in-vm.sh.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { makeBundle, type Bundle } from "../lib/rootfs.ts";
import { containerState, forceCleanup, leftovers, probeInfo, requireRoot, ROOTS, runtime, RUNTS, uniqueId, waitFor } from "../lib/harness.ts";

const root = ROOTS.runts;
const made: { id: string; bundle: Bundle }[] = [];

function bundle(config?: (c: any) => void): { id: string; bundle: Bundle } {
  const b = { id: uniqueId("v2"), bundle: makeBundle({ config }) };
  made.push(b);
  return b;
}

const runts = (args: string[]) => runtime(RUNTS, ["--root", root, ...args], { timeoutMs: 120_000 });

beforeAll(() => {
  requireRoot();
  if (process.env.RUN_IN_VM !== "1") throw new Error("test/v2 runs inside the pure cgroup v2 guest (test/run.sh starts it)");
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  expect(mounts).toMatch(/ \/sys\/fs\/cgroup [^\n]* - cgroup2 /);
});

afterEach(() => {
  for (const { id, bundle: b } of made.splice(0)) {
    forceCleanup(RUNTS, root, id);
    b.cleanup();
  }
});

describe("cgroup v2 (pure v2 host)", () => {
  test("the init is placed in /sys/fs/cgroup/<id> from its first instruction, and delete removes it", () => {
    const { id, bundle: b } = bundle((c) => (c.process.args = ["/bin/probe", "sleep", "60"]));
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const pid = containerState(RUNTS, root, id)!.pid as number;
    const procs = readFileSync(`/sys/fs/cgroup/${id}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
    expect(procs).toEqual([pid]);
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8").trim()).toBe(`0::/${id}`);
    expect(runts(["delete", "--force", id]).code).toBe(0);
    expect(existsSync(`/sys/fs/cgroup/${id}`)).toBe(false);
    expect(leftovers(id, root)).toEqual([]);
  });

  test("with a cgroup namespace the container sees itself at 0::/ and a cgroup2 mount of its own subtree", () => {
    const { id, bundle: b } = bundle((c) => c.linux.namespaces.push({ type: "cgroup" }));
    const r = runts(["run", "--bundle", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = probeInfo(r.stdout);
    expect(info.cgroup).toEqual(["0::/"]);
    const cg = info.mounts.find((m) => m.mountPoint === "/sys/fs/cgroup");
    expect(cg?.fsType).toBe("cgroup2");
    expect(cg?.options.split(",")).toContain("ro");
    expect(leftovers(id, root)).toEqual([]);
  });

  test("linux.cgroupsPath places the container where the config says", () => {
    const path = `/custom-${uniqueId("cg")}`;
    const { id, bundle: b } = bundle((c) => {
      c.linux.cgroupsPath = path;
      c.process.args = ["/bin/probe", "sleep", "60"];
    });
    expect(runts(["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
    const pid = containerState(RUNTS, root, id)!.pid as number;
    expect(readFileSync(`/sys/fs/cgroup${path}/cgroup.procs`, "utf8").trim()).toBe(String(pid));
    expect(runts(["delete", "-f", id]).code).toBe(0);
    expect(existsSync(`/sys/fs/cgroup${path}`)).toBe(false);
  });

  test("pause and resume freeze the cgroup; kill --all reaches every process; ps lists them", async () => {
    const { id, bundle: b } = bundle((c) => (c.process.args = ["/bin/sh", "-c", "/bin/probe sleep 60 & /bin/probe sleep 60"]));
    expect(runts(["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
    const pids = await waitFor("two processes", () => {
      const r = runts(["ps", "--format", "json", id]);
      const list = JSON.parse(r.stdout) as number[];
      return list.length === 2 ? list : null;
    });
    expect(runts(["pause", id]).code).toBe(0);
    expect(containerState(RUNTS, root, id)!.status).toBe("paused");
    expect(readFileSync(`/sys/fs/cgroup/${id}/cgroup.events`, "utf8")).toContain("frozen 1");
    expect(runts(["resume", id]).code).toBe(0);
    expect(containerState(RUNTS, root, id)!.status).toBe("running");
    expect(runts(["kill", "--all", id, "KILL"]).code).toBe(0);
    await waitFor("all processes gone", () => pids.every((p) => !existsSync(`/proc/${p}/cmdline`) || readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z ")));
    await waitFor("stopped", () => containerState(RUNTS, root, id)?.status === "stopped");
    expect(runts(["delete", id]).code).toBe(0);
    expect(leftovers(id, root)).toEqual([]);
  });

  test("delete --force of a paused container thaws and kills it", () => {
    const { id, bundle: b } = bundle((c) => (c.process.args = ["/bin/probe", "sleep", "60"]));
    expect(runts(["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
    expect(runts(["pause", id]).code).toBe(0);
    const r = runts(["delete", "--force", id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(`/sys/fs/cgroup/${id}`)).toBe(false);
    expect(leftovers(id, root)).toEqual([]);
  });
});
