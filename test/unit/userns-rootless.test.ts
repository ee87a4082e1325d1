import { describe, expect, test } from "bun:test";
import { rootlessCgroupDir } from "../../src/cgroups/rootless.ts";
import { defaultStateRoot, rootlessMode } from "../../src/rootless.ts";

describe("--rootless", () => {
  test("auto is rootless exactly when not run as root; true and false force it", () => {
    expect([rootlessMode("auto", 0), rootlessMode("auto", 1000), rootlessMode("true", 0), rootlessMode("false", 1000)]).toEqual([false, true, true, false]);
    expect(() => rootlessMode("yes", 0)).toThrow('--rootless must be true, false or auto, not "yes"');
  });

  test("the state root: /run/runts for root; $XDG_RUNTIME_DIR/runts, else /run/user/UID/runts if it is the caller's, else /run/runts", () => {
    const none = () => undefined;
    expect(defaultStateRoot(false, 1000, { XDG_RUNTIME_DIR: "/run/user/1000" }, none)).toBe("/run/runts");
    expect(defaultStateRoot(true, 0, { XDG_RUNTIME_DIR: "/run/user/0" }, none)).toBe("/run/runts");
    expect(defaultStateRoot(true, 1000, { XDG_RUNTIME_DIR: "/x/y/" }, none)).toBe("/x/y/runts");
    expect(defaultStateRoot(true, 1000, { XDG_RUNTIME_DIR: "relative" }, none)).toBe("/run/runts");
    expect(defaultStateRoot(true, 1000, {}, (d) => (d === "/run/user/1000" ? 1000 : undefined))).toBe("/run/user/1000/runts");
    expect(defaultStateRoot(true, 1000, {}, () => 0)).toBe("/run/runts");
  });
});

describe("rootless cgroups", () => {
  const owners: Record<string, number> = { "/sys/fs/cgroup": 0, "/sys/fs/cgroup/user": 1000, "/sys/fs/cgroup/user/c": 1000 };
  const ownerOf = (p: string) => owners[p];

  test("a cgroup under a subtree the user owns is used", () => {
    expect(rootlessCgroupDir("/sys/fs/cgroup/user/c", "/sys/fs/cgroup", { pids: { limit: 5 } }, 1000, ownerOf)).toBe("/sys/fs/cgroup/user/c");
    expect(rootlessCgroupDir("/sys/fs/cgroup/user/new/x", "/sys/fs/cgroup", undefined, 1000, ownerOf)).toBe("/sys/fs/cgroup/user/new/x");
  });

  test("no delegation: no cgroup, and resources that need one are refused naming them (deny-only device rules are not)", () => {
    expect(rootlessCgroupDir("/sys/fs/cgroup/id", "/sys/fs/cgroup", { devices: [{ allow: false, access: "rwm" }] }, 1000, ownerOf)).toBe("");
    expect(() => rootlessCgroupDir("/sys/fs/cgroup/id", "/sys/fs/cgroup", { memory: { limit: 1 } }, 1000, ownerOf)).toThrow(
      "linux.resources.memory: needs a cgroup, and rootless runts has none delegated: /sys/fs/cgroup belongs to uid 0, not 1000",
    );
    expect(() => rootlessCgroupDir("/sys/fs/cgroup/id", "/sys/fs/cgroup", { devices: [{ allow: true, access: "rwm" }] }, 1000, ownerOf)).toThrow(
      "linux.resources.devices: needs a cgroup",
    );
  });
});
