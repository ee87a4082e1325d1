// Planner side of the security review (issue 8); the integration tests check the effect.
import { describe, expect, test } from "bun:test";
import { cgroupDirFor } from "../../src/cgroups/v2.ts";
import { capabilityMasks } from "../../src/plan/capabilities.ts";
import type { HostFacts } from "../../src/plan/facts.ts";
import { ATTR, planMounts } from "../../src/plan/mounts.ts";
import { planProcess } from "../../src/plan/process.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { Process } from "../../src/spec/types.ts";

const facts: HostFacts = { kind: () => "dir", lastCap: () => 40, exists: () => true, readInRoot: () => undefined, userNamespaceMaps: () => undefined };

describe("security review planners", () => {
  test("sysfs without a network namespace: /sys bound non-recursively, the mount's flags on the whole bound tree", () => {
    const m = [{ destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] }];
    const ops = planMounts(m, { bundle: "/b", facts, hasNamespace: () => false, cgroupDir: "/sys/fs/cgroup/x" }).ops;
    expect(ops).toEqual([
      { op: "BIND", args: ["/sys", "/sys", 0, 1 | 4], origin: "mounts[0]" },
      {
        op: "SETATTR",
        args: ["/sys", ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC, ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NOSYMFOLLOW, 0, 1],
        origin: "mounts[0]",
      },
    ]);
  });

  test("capability names are exact: a lowercase one is refused, naming the field and the right spelling", () => {
    expect(() => capabilityMasks({ bounding: ["CAP_KILL", "cap_sys_admin"] }, 40)).toThrow(
      'config.json: process.capabilities.bounding[1]: unknown capability "cap_sys_admin" (names are case-sensitive: CAP_SYS_ADMIN)',
    );
  });

  test("a cgroup path component named like an interface file is refused; ordinary names pass", () => {
    expect(() => cgroupDirFor("/sys/fs/cgroup", undefined, "cgroup.procs")).toThrow('"cgroup.procs" is the name of a cgroup interface file');
    expect(() => cgroupDirFor("/sys/fs/cgroup", "/a/memory.pressure/b", "x")).toThrow("config.json: linux.cgroupsPath:");
    expect(cgroupDirFor("/sys/fs/cgroup", "/machine.slice/ctr.1", "x")).toBe("/sys/fs/cgroup/machine.slice/ctr.1");
  });

  const proc = (change: (p: Process) => void): Process => {
    const p = structuredClone(defaultSpec().process) as Process;
    p.terminal = false;
    change(p);
    return p;
  };

  test("args and env: at most 65534 strings, each under 128 KiB, 8 MiB in all", () => {
    expect(() => planProcess(proc((p) => (p.env = Array.from({ length: 65533 }, (_, i) => `V${i}=`))), 0, 40)).toThrow(
      "config.json: process.args and process.env: 65535 strings in all, more than runts's limit of 65534",
    );
    expect(() => planProcess(proc((p) => (p.args = ["/bin/echo", "x".repeat(131072)])), 0, 40)).toThrow(
      "config.json: process.args[1]: 131072 bytes, more than the kernel's limit of 131071",
    );
    expect(() => planProcess(proc((p) => (p.env = Array.from({ length: 80 }, (_, i) => `V${i}=${"x".repeat(120_000)}`))), 0, 40)).toThrow(
      "bytes in all, more than runts's limit of 8388608",
    );
    expect(() => planProcess(proc((p) => (p.env!.push(`BIG=${"x".repeat(131066)}`))), 0, 40)).not.toThrow();
  });

  test("user ids out of range are refused before any op is planned", () => {
    expect(() => planProcess(proc((p) => (p.user.uid = 4294967295)), 0, 40)).toThrow("config.json: process.user.uid: 4294967295 is not a valid id");
    expect(() => planProcess(proc((p) => (p.user.additionalGids = [1, -1])), 0, 40)).toThrow("process.user.additionalGids[1]");
  });
});
