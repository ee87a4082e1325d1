// Plain cgroupfs directory operations shared by both drivers.
import { errnoOf, RuntsError } from "../errors.ts";
import { exists, listDir, O, readTextIfAny, rmdir, writeText } from "../libc.ts";
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

/** Removes a cgroup tree; waits briefly for killed processes to leave it. */
export function removeDir(dir: string, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs;
  const remove = (d: string): void => {
    for (const sub of subdirs(d)) remove(`${d}/${sub}`);
    for (;;) {
      try {
        rmdir(d);
        return;
      } catch (err) {
        const errno = errnoOf(err);
        if (errno === 2) return; // ENOENT
        if (errno !== 16 || Date.now() > deadline) throw new RuntsError("remove cgroup", d, errno);
        sleepMs(2);
      }
    }
  };
  if (exists(dir)) remove(dir);
}

/** Writes one cgroup interface file (no O_CREAT: cgroupfs files exist or the controller is absent). */
export function writeCgroupFile(file: string, value: string): void {
  writeText(file, value, O.WRONLY);
}
