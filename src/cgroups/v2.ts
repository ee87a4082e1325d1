// cgroup v2: the container's directory in the unified hierarchy. On a hybrid host the
// v2 hierarchy (often at /sys/fs/cgroup/unified) has no controllers but still gives
// placement, cgroup.kill and cgroup.freeze.
import { posix } from "node:path";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { ConfigError } from "../errors.ts";
import { sleepMs } from "../sleep.ts";

/** Mount point of the cgroup2 hierarchy, preferring /sys/fs/cgroup (pure v2). */
export function cgroup2Root(mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string {
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0 || !line.slice(sep + 3).startsWith("cgroup2 ")) continue;
    points.push(line.split(" ")[4]!.replace(/\\040/g, " "));
  }
  if (points.includes("/sys/fs/cgroup")) return "/sys/fs/cgroup";
  if (points.includes("/sys/fs/cgroup/unified")) return "/sys/fs/cgroup/unified";
  if (points[0]) return points[0];
  throw new RuntsError("find cgroup2 mount", "/proc/self/mountinfo", 0, "no cgroup2 hierarchy is mounted");
}

/** linux.cgroupsPath (or the default /<id>) -> directory under the cgroup2 root. */
export function cgroupDirFor(root: string, cgroupsPath: string | undefined, id: string): string {
  const p = cgroupsPath || `/${id}`;
  if (/^[^/]*:[^/]*:[^/]*$/.test(p)) {
    throw new ConfigError(`linux.cgroupsPath: ${JSON.stringify(p)} is a systemd slice path; the systemd cgroup driver is not supported yet`);
  }
  const rel = posix.normalize(posix.join("/", p));
  if (rel === "/") throw new ConfigError("linux.cgroupsPath: cannot be the cgroup root");
  return posix.join(root, rel);
}

/**
 * Refuses a cgroup that already holds processes or child cgroups: it is someone else's, and
 * a failed create or a delete would SIGKILL them through cgroup.kill.
 */
export function assertCgroupFree(dir: string): void {
  const procs = readProcs(dir);
  if (procs.length) throw new RuntsError("create cgroup", dir, 0, `already in use by pid ${procs.join(", ")}`);
  const children = subdirs(dir);
  if (children.length) throw new RuntsError("create cgroup", dir, 0, `already has child cgroups (${children.join(", ")})`);
}

export function createCgroup(dir: string): void {
  wrapSys("create cgroup", dir, () => mkdirSync(dir, { recursive: true }));
}

export function readProcs(dir: string): number[] {
  try {
    return readFileSync(posix.join(dir, "cgroup.procs"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** All pids in dir and its descendants. */
export function allProcs(dir: string): number[] {
  const out = readProcs(dir);
  for (const sub of subdirs(dir)) out.push(...allProcs(posix.join(dir, sub)));
  return out;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** SIGKILLs every process in the cgroup tree (cgroup.kill, Linux 5.14+). */
export function killCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    writeFileSync(posix.join(dir, "cgroup.kill"), "1");
  } catch {
    for (const pid of allProcs(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
}

/** Removes the cgroup tree; waits briefly for killed processes to leave it. */
export function removeCgroup(dir: string, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs;
  const remove = (d: string): void => {
    for (const sub of subdirs(d)) remove(posix.join(d, sub));
    for (;;) {
      try {
        rmdirSync(d);
        return;
      } catch (err) {
        const errno = errnoOf(err);
        if (errno === 2) return; // ENOENT
        if (errno !== 16 || Date.now() > deadline) throw new RuntsError("remove cgroup", d, errno);
        sleepMs(2);
      }
    }
  };
  remove(dir);
}

export function setFrozen(dir: string, frozen: boolean): void {
  const file = posix.join(dir, "cgroup.freeze");
  wrapSys(frozen ? "pause" : "resume", file, () => writeFileSync(file, frozen ? "1" : "0"));
  const want = frozen ? "frozen 1" : "frozen 0";
  const deadline = Date.now() + 5000;
  while (!readFileSync(posix.join(dir, "cgroup.events"), "utf8").includes(want)) {
    if (Date.now() > deadline) throw new RuntsError(frozen ? "pause" : "resume", dir, 0, "cgroup did not settle");
    sleepMs(1);
  }
}

export function isFrozen(dir: string): boolean {
  try {
    return readFileSync(posix.join(dir, "cgroup.freeze"), "utf8").trim() === "1";
  } catch {
    return false;
  }
}
