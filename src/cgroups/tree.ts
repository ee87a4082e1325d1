// Plain cgroupfs directory operations shared by both drivers.
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { close, exists, listDir, O, open, openAt, readTextIfAny, rmdir, rmdirAt, writeText } from "../libc.ts";
import { sleepMs } from "../sleep.ts";

export function readProcs(dir: string): number[] {
  return (readTextIfAny(`${dir}/cgroup.procs`) ?? "")
    .split("\n")
    .filter(Boolean)
    .map(Number);
}

export function subdirs(dir: string): string[] {
  try {
    return listDir(dir)
      .filter((e) => e.dir)
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** All pids in dir and its descendants. */
export function allProcs(dir: string): number[] {
  const out = readProcs(dir);
  for (const sub of subdirs(dir)) out.push(...allProcs(`${dir}/${sub}`));
  return out;
}

export function assertDirFree(dir: string): void {
  if (!exists(dir)) return; // the common case: create is about to make it
  const procs = readProcs(dir);
  if (procs.length) throw new RuntsError("create cgroup", dir, 0, `already in use by pid ${procs.join(", ")}`);
  const children = subdirs(dir);
  if (children.length) throw new RuntsError("create cgroup", dir, 0, `already has child cgroups (${children.join(", ")})`);
}

export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

/**
 * Removes a cgroup tree; waits briefly for killed processes to leave it. A container with a
 * writable cgroup mount can nest cgroups past PATH_MAX: the walk goes down and back up through
 * directory fds (one open at a time), never through a path longer than the top one.
 */
export function removeDir(dir: string, timeoutMs = 5000): void {
  // Most containers leave a cgroup without children or processes: one rmdir. EBUSY (children,
  // or killed processes still leaving) and EAGAIN take the walk below, which waits for them.
  try {
    return rmdir(dir);
  } catch (err) {
    const errno = errnoOf(err);
    // ENOENT: gone; ENOTDIR: a state.json from before ids were checked names an interface file.
    if (errno === 2 || errno === 20) return;
    if (errno !== 16 && errno !== 11) throw new RuntsError("remove cgroup", dir, errno);
  }
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
    // Gone since the rmdir above found it busy.
    if (errnoOf(err) === 2) return;
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

/** Writes one cgroup interface file (no O_CREAT: cgroupfs files exist or the controller is absent). */
export function writeCgroupFile(file: string, value: string): void {
  writeText(file, value, O.WRONLY);
}
