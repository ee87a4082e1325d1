// cgroup v2: the container's directory in the unified hierarchy. On a hybrid host the
// v2 hierarchy (often at /sys/fs/cgroup/unified) has no controllers but still gives
// placement, cgroup.kill and cgroup.freeze.
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { ConfigError } from "../errors.ts";
import { close, exists, listDir, O, mkdirAll, open, openAt, readText, readTextIfAny, rmdir, rmdirAt, writeText } from "../libc.ts";
import { sleepMs } from "../sleep.ts";

/** Mount point of the cgroup2 hierarchy, preferring /sys/fs/cgroup (pure v2). */
export function cgroup2Root(mountinfo = readText("/proc/self/mountinfo")): string {
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

/** Names the kernel uses for a cgroup's own files (cgroup.procs, memory.pressure, ...). */
const INTERFACE_FILE = /^(cgroup|cpu|cpuset|io|irq|memory|pids|rdma|hugetlb|misc)\./;

/** linux.cgroupsPath (or the default /<id>) -> directory under the cgroup2 root. */
export function cgroupDirFor(root: string, cgroupsPath: string | undefined, id: string): string {
  const p = cgroupsPath || `/${id}`;
  if (/^[^/]*:[^/]*:[^/]*$/.test(p)) {
    throw new ConfigError(`linux.cgroupsPath: ${JSON.stringify(p)} is a systemd slice path; the systemd cgroup driver is not supported yet`);
  }
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "..") parts.pop();
    else if (part && part !== ".") parts.push(part);
  }
  if (!parts.length) throw new ConfigError("linux.cgroupsPath: cannot be the cgroup root");
  const iface = parts.find((part) => INTERFACE_FILE.test(part));
  if (iface !== undefined) {
    const why = `${JSON.stringify(iface)} is the name of a cgroup interface file, not a cgroup`;
    if (!cgroupsPath) throw new RuntsError("container id", id, 0, `${why} (the default cgroup path is /<id>): set linux.cgroupsPath`);
    throw new ConfigError(`linux.cgroupsPath: ${why}`);
  }
  return `${root}/${parts.join("/")}`;
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
  wrapSys("create cgroup", dir, () => mkdirAll(dir, 0o755));
}

export function readProcs(dir: string): number[] {
  return (readTextIfAny(`${dir}/cgroup.procs`) ?? "")
    .split("\n")
    .filter(Boolean)
    .map(Number);
}

/** All pids in dir and its descendants. */
export function allProcs(dir: string): number[] {
  const out = readProcs(dir);
  for (const sub of subdirs(dir)) out.push(...allProcs(`${dir}/${sub}`));
  return out;
}

function subdirs(dir: string): string[] {
  try {
    return listDir(dir)
      .filter((e) => e.dir)
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** SIGKILLs every process in the cgroup tree (cgroup.kill, Linux 5.14+). */
export function killCgroup(dir: string): void {
  if (!exists(dir)) return;
  try {
    writeText(`${dir}/cgroup.kill`, "1", O.WRONLY);
  } catch {
    for (const pid of allProcs(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
}

/**
 * Removes the cgroup tree; waits briefly for killed processes to leave it. A container with a
 * writable cgroup mount can nest cgroups past PATH_MAX: the walk goes down and back up through
 * directory fds (one open at a time), never through a path longer than the top one.
 */
export function removeCgroup(dir: string, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs;
  const retry = (what: string, fn: () => void): void => {
    for (;;) {
      try {
        return fn();
      } catch (err) {
        const errno = errnoOf(err);
        if (errno === 2) return; // ENOENT
        // EBUSY while killed processes leave; EAGAIN, seen now and then right after cgroup.kill.
        if ((errno !== 16 && errno !== 11) || Date.now() > deadline) throw new RuntsError("remove cgroup", what, errno);
        sleepMs(2);
      }
    }
  };
  let fd: number;
  try {
    fd = open(dir, O.RDONLY | O.DIRECTORY);
  } catch (err) {
    // ENOTDIR: a state.json from before ids were checked names an interface file; no cgroup.
    if (errnoOf(err) === 2 || errnoOf(err) === 20) return;
    throw new RuntsError("remove cgroup", dir, errnoOf(err));
  }
  const down: string[] = [];
  try {
    for (;;) {
      const sub = subdirs(`/proc/self/fd/${fd}`)[0];
      if (sub !== undefined) {
        const child = wrapSys("remove cgroup", `${dir}/…/${sub}`, () => openAt(fd, sub, O.RDONLY | O.DIRECTORY));
        close(fd);
        fd = child;
        down.push(sub);
        continue;
      }
      const name = down.pop();
      if (name === undefined) break;
      const parent = wrapSys("remove cgroup", `${dir}/…`, () => openAt(fd, "..", O.RDONLY | O.DIRECTORY));
      close(fd);
      fd = parent;
      retry(`${dir}/${down.length ? "…/" : ""}${name}`, () => rmdirAt(fd, name));
    }
  } finally {
    close(fd);
  }
  retry(dir, () => rmdir(dir));
}

export function setFrozen(dir: string, frozen: boolean): void {
  const file = `${dir}/cgroup.freeze`;
  wrapSys(frozen ? "pause" : "resume", file, () => writeText(file, frozen ? "1" : "0", O.WRONLY));
  const want = frozen ? "frozen 1" : "frozen 0";
  const deadline = Date.now() + 5000;
  while (!readText(`${dir}/cgroup.events`).includes(want)) {
    if (Date.now() > deadline) throw new RuntsError(frozen ? "pause" : "resume", dir, 0, "cgroup did not settle");
    sleepMs(1);
  }
}

export function isFrozen(dir: string): boolean {
  return readTextIfAny(`${dir}/cgroup.freeze`)?.trim() === "1";
}
