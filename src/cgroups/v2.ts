// cgroup v2: the container's directory in the unified hierarchy. On a hybrid host the
// v2 hierarchy (often at /sys/fs/cgroup/unified) has no controllers but still gives
// placement, cgroup.kill and cgroup.freeze; the v1 driver uses these functions for it.
import { RuntsError, wrapSys } from "../errors.ts";
import { exists, mkdirAll, O, readText, readTextIfAny, writeText } from "../libc.ts";
import { sleepMs } from "../sleep.ts";
import type { CgroupPaths, Cgroups } from "./driver.ts";
import { allProcs, assertDirFree, killPids, removeDir } from "./tree.ts";

/** cgroupDir "" (rootless without a delegated cgroup): no cgroup, nothing to do. */
export class V2Cgroups implements Cgroups {
  constructor(readonly paths: CgroupPaths) {}
  dirs(): string[] {
    return this.paths.cgroupDir ? [this.paths.cgroupDir] : [];
  }
  assertFree(): void {
    if (this.paths.cgroupDir) assertDirFree(this.paths.cgroupDir);
  }
  create(): void {
    if (this.paths.cgroupDir) createDir(this.paths.cgroupDir);
  }
  kill(): void {
    if (this.paths.cgroupDir) killDir(this.paths.cgroupDir);
  }
  remove(): void {
    const dir = this.paths.cgroupDir;
    if (!dir || !exists(dir)) return;
    if (isFrozenDir(dir)) setFrozenDir(dir, false);
    killDir(dir);
    removeDir(dir);
  }
  procs(): number[] {
    return this.paths.cgroupDir ? allProcs(this.paths.cgroupDir) : [];
  }
  setFrozen(frozen: boolean): void {
    if (!this.paths.cgroupDir) throw new RuntsError(frozen ? "pause" : "resume", "", 0, "the container has no cgroup (rootless, none delegated)");
    setFrozenDir(this.paths.cgroupDir, frozen);
  }
  isFrozen(): boolean {
    return !!this.paths.cgroupDir && isFrozenDir(this.paths.cgroupDir);
  }
  joinFiles(): string[] {
    return [];
  }
}

export function createDir(dir: string): void {
  wrapSys("create cgroup", dir, () => mkdirAll(dir, 0o755));
}

/** SIGKILLs every process in the cgroup tree (cgroup.kill, Linux 5.14+). */
export function killDir(dir: string): void {
  if (!exists(dir)) return;
  try {
    writeText(`${dir}/cgroup.kill`, "1", O.WRONLY);
  } catch {
    killPids(allProcs(dir));
  }
}

export function setFrozenDir(dir: string, frozen: boolean): void {
  const file = `${dir}/cgroup.freeze`;
  wrapSys(frozen ? "pause" : "resume", file, () => writeText(file, frozen ? "1" : "0", O.WRONLY));
  const want = frozen ? "frozen 1" : "frozen 0";
  const deadline = Date.now() + 5000;
  while (!readText(`${dir}/cgroup.events`).includes(want)) {
    if (Date.now() > deadline) throw new RuntsError(frozen ? "pause" : "resume", dir, 0, "cgroup did not settle");
    sleepMs(1);
  }
}

export function isFrozenDir(dir: string): boolean {
  return readTextIfAny(`${dir}/cgroup.freeze`)?.trim() === "1";
}
