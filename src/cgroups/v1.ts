// cgroup v1 (legacy and hybrid hosts): a cgroup in every v1 hierarchy runc would use, and
// on a hybrid host the unified one too (placement by CLONE_INTO_CGROUP, cgroup.kill, the
// device BPF program). Pausing uses the v1 freezer, which is what managers read here.
import { RuntsError, wrapSys } from "../errors.ts";
import { exists, readText, readTextIfAny } from "../libc.ts";
import { sleepMs } from "../sleep.ts";
import type { CgroupPaths, Cgroups } from "./driver.ts";
import { allProcs, assertDirFree, killPids, removeDir, writeCgroupFile } from "./tree.ts";
import { createDir, killDir } from "./v2.ts";

export class V1Cgroups implements Cgroups {
  private readonly v1: Record<string, string>;
  constructor(readonly paths: CgroupPaths) {
    this.v1 = paths.cgroupV1 ?? {};
  }
  dirs(): string[] {
    const out = [...new Set(Object.values(this.v1))];
    if (this.paths.cgroupDir) out.push(this.paths.cgroupDir);
    return out;
  }
  assertFree(): void {
    for (const d of this.dirs()) assertDirFree(d);
  }
  create(): void {
    for (const [ctrl, dir] of Object.entries(this.v1)) {
      if (ctrl === "cpuset") createCpuset(dir);
      else createDir(dir);
    }
    if (this.paths.cgroupDir) createDir(this.paths.cgroupDir);
  }
  kill(): void {
    if (this.paths.cgroupDir) killDir(this.paths.cgroupDir);
    else killPids(this.procs());
  }
  remove(): void {
    if (this.isFrozen()) this.setFrozen(false);
    this.kill();
    // Killed processes leave every hierarchy at once; the unified one is removed first as
    // the one cgroup.kill acted on.
    for (const d of this.dirs().reverse()) removeDir(d);
  }
  procs(): number[] {
    if (this.paths.cgroupDir) return allProcs(this.paths.cgroupDir);
    const dir = this.v1.pids ?? this.v1.freezer ?? Object.values(this.v1)[0];
    return dir ? allProcs(dir) : [];
  }
  setFrozen(frozen: boolean): void {
    const dir = this.v1.freezer;
    if (!dir) throw new RuntsError(frozen ? "pause" : "resume", "", 0, "the freezer cgroup controller is not mounted");
    const file = `${dir}/freezer.state`;
    const want = frozen ? "FROZEN" : "THAWED";
    const deadline = Date.now() + 5000;
    // The v1 freezer may stay FREEZING while a task is in an uninterruptible sleep; writing
    // FROZEN again retries (as runc does).
    for (;;) {
      wrapSys(frozen ? "pause" : "resume", file, () => writeCgroupFile(file, want));
      if (readText(file).trim() === want) return;
      if (Date.now() > deadline) {
        if (frozen) writeCgroupFile(file, "THAWED");
        throw new RuntsError(frozen ? "pause" : "resume", file, 0, `the freezer did not reach ${want}`);
      }
      sleepMs(1);
    }
  }
  isFrozen(): boolean {
    const dir = this.v1.freezer;
    return !!dir && readTextIfAny(`${dir}/freezer.state`)?.trim() === "FROZEN";
  }
  joinFiles(): string[] {
    return [...new Set(Object.values(this.v1))].map((d) => `${d}/tasks`);
  }
}

/**
 * A v1 cpuset cgroup starts with no cpus and no mems, and a task cannot join it then: each
 * level created gets its parent's (as runc does).
 */
function createCpuset(dir: string): void {
  const levels = [dir];
  for (let d = dir.slice(0, dir.lastIndexOf("/")); !exists(d); d = d.slice(0, d.lastIndexOf("/"))) levels.unshift(d);
  createDir(dir);
  for (const d of levels) {
    const parent = d.slice(0, d.lastIndexOf("/"));
    for (const f of ["cpuset.cpus", "cpuset.mems"]) {
      const file = `${d}/${f}`;
      if (readText(file).trim()) continue;
      wrapSys("create cgroup", file, () => writeCgroupFile(file, readText(`${parent}/${f}`).trim()));
    }
  }
}
