// Writes a container's device rules (create, and update with devices): the v1 list and the
// BPF program (device-bpf-attach.ts).
import { RuntsError, wrapSys } from "../errors.ts";
import { attachDeviceProgram } from "./device-bpf-attach.ts";
import { type DeviceRule, v1DeviceWrites } from "./device-rules.ts";
import type { CgroupPaths } from "./driver.ts";
import { writeCgroupFile } from "./tree.ts";

/**
 * The device rules: the v1 devices controller where the host has one, and a device BPF
 * program on the unified cgroup wherever there is one (on a hybrid host both apply).
 */
export function applyDevices(paths: CgroupPaths, rules: DeviceRule[]): void {
  const v1 = paths.cgroupV1?.devices;
  if (v1) {
    for (const w of v1DeviceWrites(rules)) {
      const file = `${v1}/${w.file}`;
      try {
        wrapSys("write", file, () => writeCgroupFile(file, w.value));
      } catch (err) {
        const e = err as RuntsError;
        throw new RuntsError(e.op, e.path, e.errno, `${JSON.stringify(w.value)}`, "linux.resources.devices");
      }
    }
  }
  if (paths.cgroupDir) attachDeviceProgram(paths.cgroupDir, rules);
  else if (!v1) throw new RuntsError("apply device rules", "", 0, "the host has neither a devices cgroup nor cgroup v2", "linux.resources.devices");
}
