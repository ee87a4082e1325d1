/**
 * A cgroup that already holds processes or child cgroups belongs to someone else: create must
 * refuse it, and neither the failed create's cleanup nor a later delete may kill what runs
 * there (cgroup.kill would SIGKILL the whole subtree). Placement works in the v2 hierarchy of
 * this hybrid host too, so this runs here; test/v2 covers the pure v2 host.
 */
import { describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cgroupV2Root, containerState, leftovers, ROOTS, runtime, RUNTS, uniqueId, RT_RUNTS } from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("cgown");
const { newId, newBundle, defer } = scope;

/** A cgroup of the test's own under the v2 root, removed after the test. */
function foreignCgroup(name: string): string {
  const dir = path.join(cgroupV2Root(), name);
  mkdirSync(dir);
  defer(() => existsSync(dir) && rmdirSync(dir));
  return dir;
}

function sleeper(): ChildProcess {
  const p = spawn("sleep", ["60"], { stdio: "ignore" });
  defer(() => p.kill("SIGKILL"));
  return p;
}

function bundleIn(cgroupsPath: string): Bundle {
  const b = newBundle({ rootfs: "shared", config: (c) => (c.linux.cgroupsPath = cgroupsPath) });
  return b;
}

function alive(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null && existsSync(`/proc/${p.pid}`);
}

describe("cgroup ownership", () => {
  test("a cgroup with a process in it is refused and the process survives", async () => {
    const name = uniqueId("cgown");
    const dir = foreignCgroup(name);
    const other = sleeper();
    writeFileSync(path.join(dir, "cgroup.procs"), String(other.pid));
    defer(() => other.kill("SIGKILL"));
    const id = newId(RT_RUNTS);
    const b = bundleIn(`/${name}`);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "-b", b.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`create cgroup "${dir}": already in use by pid ${other.pid}`);
    await Bun.sleep(100);
    expect(alive(other)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    expect(existsSync(path.join(ROOTS.runts, id))).toBe(false);
    // delete --force of the refused id must not touch the cgroup either.
    runtime(RUNTS, ["--root", ROOTS.runts, "delete", "--force", id]);
    expect(alive(other)).toBe(true);
  });

  test("a cgroup with child cgroups is refused and the children are left alone", async () => {
    const name = uniqueId("cgown");
    const dir = foreignCgroup(name);
    const child = path.join(dir, "child");
    mkdirSync(child);
    defer(() => existsSync(child) && rmdirSync(child));
    const other = sleeper();
    writeFileSync(path.join(child, "cgroup.procs"), String(other.pid));
    const id = newId(RT_RUNTS);
    const b = bundleIn(`/${name}`);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "-b", b.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`create cgroup "${dir}": already has child cgroups (child)`);
    await Bun.sleep(100);
    expect(alive(other)).toBe(true);
    expect(existsSync(child)).toBe(true);
    expect(leftovers(id, ROOTS.runts)).toEqual([]);
  });

  test("an existing empty cgroup is used, and delete removes it with the container", () => {
    const name = uniqueId("cgown");
    const dir = foreignCgroup(name);
    const id = newId(RT_RUNTS);
    const b = bundleIn(`/${name}`);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "-b", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = containerState(RUNTS, ROOTS.runts, id)?.pid;
    expect(readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n")).toContain(String(pid));
    const del = runtime(RUNTS, ["--root", ROOTS.runts, "delete", "--force", id]);
    expect(del.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(id, ROOTS.runts)).toEqual([]);
  });
});
