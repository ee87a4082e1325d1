// Writes a container's resources into its cgroups (create and update). The planning is pure
// (resources.ts); this only maps the plan to files. Devices: apply-devices.ts.
import { RuntsError, wrapSys } from "../errors.ts";
import { exists, readText, readTextIfAny } from "../libc.ts";
import type { CgroupPaths } from "./driver.ts";
import { type CgroupWrite, type ResourcePlan, v1Writes, v2Writes } from "./resources.ts";
import { writeCgroupFile } from "./tree.ts";

function fieldError(err: unknown, field: string, value: string): RuntsError {
  const e = err as RuntsError;
  return new RuntsError(e.op ?? "write", e.path ?? "", e.errno ?? 0, `${JSON.stringify(value)}${e.detail ? `: ${e.detail}` : ""}`, field);
}

function writeAll(writes: CgroupWrite[], dirOf: (w: CgroupWrite) => string): void {
  for (const w of writes) {
    const file = `${dirOf(w)}/${w.file}`;
    try {
      wrapSys("write", file, () => writeCgroupFile(file, w.value));
    } catch (err) {
      throw fieldError(err, w.field, w.value);
    }
  }
}

/** v1 and hybrid hosts: each file in its controller's hierarchy. */
export function applyV1(paths: CgroupPaths, plan: ResourcePlan): CgroupWrite[] {
  const v1 = paths.cgroupV1 ?? {};
  const writes = v1Writes(plan, (file, ctrl) => !!v1[ctrl] && exists(`${v1[ctrl]}/${file}`));
  // memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes: raising both, memsw goes first.
  const memsw = writes.findIndex((w) => w.file === "memory.memsw.limit_in_bytes");
  const limit = writes.findIndex((w) => w.file === "memory.limit_in_bytes");
  if (memsw > limit && limit >= 0 && v1.memory) {
    const current = Number(readTextIfAny(`${v1.memory}/memory.memsw.limit_in_bytes`) ?? "0");
    if (Number(writes[memsw]!.value) > current) writes.splice(limit, 0, writes.splice(memsw, 1)[0]!);
  }
  for (const w of writes) {
    if (!v1[w.controller]) throw new RuntsError("apply", "", 0, `the ${w.controller} cgroup controller is not mounted (cgroup v1)`, w.field);
    if (!exists(`${v1[w.controller]}/${w.file}`)) throw new RuntsError("apply", `${v1[w.controller]}/${w.file}`, 0, `the kernel's ${w.controller} controller has no such file`, w.field);
  }
  writeAll(writes, (w) => v1[w.controller]!);
  return writes;
}

/**
 * Pure v2: the controllers the writes need are enabled in every ancestor's
 * cgroup.subtree_control, from the hierarchy's root down, then the files are written.
 */
export function applyV2(root: string, dir: string, plan: ResourcePlan): CgroupWrite[] {
  const needed = [...new Set(v2Writes(plan, () => false).map((w) => w.controller))].filter((c) => c !== "cgroup");
  const fieldOf = (ctrl: string) => v2Writes(plan, () => false).find((w) => w.controller === ctrl)!.field;
  const levels = [root];
  for (const part of dir.slice(root.length + 1).split("/").slice(0, -1)) levels.push(`${levels.at(-1)}/${part}`);
  for (const level of levels) {
    const available = readText(`${level}/cgroup.controllers`).trim().split(" ");
    const enabled = readText(`${level}/cgroup.subtree_control`).trim().split(" ");
    for (const ctrl of needed) {
      if (enabled.includes(ctrl)) continue;
      if (!available.includes(ctrl)) {
        throw new RuntsError("apply", `${level}/cgroup.controllers`, 0, `the cgroup v2 controller ${ctrl} is not available`, fieldOf(ctrl));
      }
      const file = `${level}/cgroup.subtree_control`;
      try {
        wrapSys("enable controller", file, () => writeCgroupFile(file, `+${ctrl}`));
      } catch (err) {
        throw fieldError(err, fieldOf(ctrl), `+${ctrl}`);
      }
    }
  }
  const writes = v2Writes(plan, (file) => exists(`${dir}/${file}`));
  for (const w of writes) {
    if (!exists(`${dir}/${w.file}`)) throw new RuntsError("apply", `${dir}/${w.file}`, 0, `no such cgroup interface file (the ${w.controller} controller)`, w.field);
  }
  writeAll(writes, () => dir);
  return writes;
}

/**
 * v1 with the kernel's RT group scheduling: a new cpu cgroup gets no realtime time, and
 * SCHED_FIFO/SCHED_RR then fail with a bare EPERM in the init. Said before, naming the fix.
 */
export function assertRealtimeBudget(paths: CgroupPaths, policy: string | undefined): void {
  const cpu = paths.cgroupV1?.cpu;
  if (!cpu || (policy !== "SCHED_FIFO" && policy !== "SCHED_RR")) return;
  if (readTextIfAny(`${cpu}/cpu.rt_runtime_us`)?.trim() !== "0") return;
  throw new RuntsError("create", `${cpu}/cpu.rt_runtime_us`, 0, `${policy} needs realtime time in the container's cpu cgroup (0 here): set linux.resources.cpu.realtimeRuntime`, "process.scheduler");
}
